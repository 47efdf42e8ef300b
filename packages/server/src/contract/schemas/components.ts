import { Client } from "./clients.js";
import { ErrorBody, ValidationDetailSchema } from "./common.js";
import { Event } from "./events.js";
import { Factor } from "./factors.js";
import { ImportReport } from "./imports.js";
import { Tenant } from "./tenant.js";
import { User } from "./users.js";
import { Verification } from "./verifications.js";
import { Delivery, Webhook } from "./webhooks.js";

/**
 * The named schemas: registered once with the server (app.addSchema), referenced by $id from
 * routes and other schemas, and listed under components.schemas in the OpenAPI document.
 */
export const NAMED_SCHEMAS = [ErrorBody, ValidationDetailSchema, Factor, User, Tenant, Verification, Webhook, Delivery, Event, Client, ImportReport] as const;
