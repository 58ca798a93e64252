import { type HttpRoute, json } from "../http/types.js";
import {
  authenticateUser,
  methodNotAllowed,
  noContent,
  parseJsonBody,
  parsePathParam,
} from "../http/usersig-auth.js";
import type { Clock } from "../ports/clock.js";
import type { PreferenceStore } from "../ports/stores.js";
import { conversationIdSchema, conversationOptSchema, globalOptSchema } from "./preferences.schema.js";

export interface PreferencesApiDeps {
  preferences: PreferenceStore;
  clock: Clock;
  sdkAppId: number;
  /** The app's UserSig secret key; the caller fetches and caches it. */
  userSigKey: () => Promise<string>;
}

const CONVERSATION_PATH = /^\/v1\/preferences\/conversations\/([^/]*)$/;

/**
 * The receive options the app sets through the SDK, reported to chatpush as well: no Tencent REST
 * API reads them back (tencent-chat.md §7.1). Authenticated by the caller's own UserSig exactly as
 * the device API is, so a user only ever reads and writes their own. Returns undefined for paths it
 * does not own.
 */
export function makePreferencesApi(deps: PreferencesApiDeps): HttpRoute {
  return async (request) => {
    const method = request.method.toUpperCase();
    const route = matchRoute(request.path);
    if (route === undefined) return undefined;
    if (!route.methods.includes(method)) return methodNotAllowed(route.methods);

    const auth = await authenticateUser(request, deps);
    if (!auth.ok) return auth.response;
    const userId = auth.userId;

    switch (route.kind) {
      case "preferences": {
        const { conversations, all } = await deps.preferences.getPreferences(userId);
        return json(200, all === undefined ? { conversations } : { conversations, all });
      }

      case "conversation": {
        const conversationId = parsePathParam(
          route.rawConversationId,
          conversationIdSchema,
          "conversationID",
        );
        if (!conversationId.ok) return conversationId.response;
        const body = parseJsonBody(request, conversationOptSchema);
        if (!body.ok) return body.response;
        await deps.preferences.setConversationOpt(
          userId,
          conversationId.value,
          body.value.receiveOpt,
          deps.clock.now(),
        );
        return noContent();
      }

      case "all": {
        const body = parseJsonBody(request, globalOptSchema);
        if (!body.ok) return body.response;
        await deps.preferences.setGlobalOpt(userId, { ...body.value, at: deps.clock.now() });
        return noContent();
      }
    }
  };
}

type Route =
  | { kind: "preferences"; methods: readonly string[] }
  | { kind: "conversation"; methods: readonly string[]; rawConversationId: string }
  | { kind: "all"; methods: readonly string[] };

function matchRoute(path: string): Route | undefined {
  if (path === "/v1/preferences") return { kind: "preferences", methods: ["GET"] };
  if (path === "/v1/preferences/all") return { kind: "all", methods: ["PUT"] };
  const conversation = CONVERSATION_PATH.exec(path);
  if (conversation) {
    return { kind: "conversation", methods: ["PUT"], rawConversationId: conversation[1] ?? "" };
  }
  return undefined;
}
