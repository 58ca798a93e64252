import { Logger } from "@aws-lambda-powertools/logger";
import type { Journal } from "../../lib/ports/index.js";

/** One logger for the whole process; POWERTOOLS_SERVICE_NAME and LOG_LEVEL configure it. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "chatpush" });

/** Deployed, the journal is structured log lines (searchable by messageKey / userId in Logs Insights). */
export const logJournal: Journal = {
  record(entry) {
    logger.info(entry.stage, { journal: entry });
  },
};
