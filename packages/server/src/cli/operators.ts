import { parseArgs } from "node:util";
import { createApp } from "../app.js";
import { isId } from "../core/id.js";
import { isOperatorRole } from "../core/operator.js";
import { type EnrollmentLink, OperatorError, type PublicOperator } from "../services/operators.js";
import { type Command, UsageError } from "./command.js";

/**
 * The console's operators (issue 16) are managed here only: the system tenant has no API keys, and no operator
 * manages operators in the console. A link is printed once; give it to the operator alone (it opens their passkey
 * enrollment, 24 h, single use).
 */
export const operators: Command = {
	name: "operators",
	summary: "create, list or disable console operators; issue a new enrollment link",
	usage:
		"twofold operators create --name NAME --role viewer|support|admin (--tenant ID [--tenant ID …] | --all-tenants) [--json]\n" +
		"    prints a one-time enrollment link (24 h, single use) for the operator's passkey or security key\n" +
		"twofold operators reissue --name NAME [--json]\n" +
		"    a new link for an operator who lost their key; the earlier link stops working\n" +
		"twofold operators list [--json]\n" +
		"twofold operators disable --name NAME [--json]",
	async run(argv, config, out) {
		const [action, ...rest] = argv;
		if (action === "create") {
			const { values } = parseArgs({
				args: rest,
				options: { name: { type: "string" }, role: { type: "string" }, tenant: { type: "string", multiple: true }, "all-tenants": { type: "boolean" }, json: { type: "boolean" } },
				strict: true,
			});
			if (values.name === undefined) throw new UsageError("--name is required");
			if (values.role === undefined || !isOperatorRole(values.role)) throw new UsageError("--role must be viewer, support or admin");
			const tenants = values.tenant ?? [];
			if (values["all-tenants"] === true && tenants.length > 0) throw new UsageError("give --tenant ID or --all-tenants, not both");
			if (values["all-tenants"] !== true && tenants.length === 0) throw new UsageError("give --tenant ID (one or more) or --all-tenants");
			for (const tenant of tenants) if (!isId("ten", tenant)) throw new UsageError(`--tenant ${JSON.stringify(tenant)} is not a tenant id (ten_…)`);
			return withApp(config, out, async (app) => {
				const created = await app.services.operators.create({ name: values.name!, role: values.role as "viewer" | "support" | "admin", tenants: values["all-tenants"] === true ? "all" : tenants });
				out.stdout(values.json ? JSON.stringify(linkJSON(created)) : linkText(created, "created"));
			});
		}
		if (action === "reissue") {
			const { values } = parseArgs({ args: rest, options: { name: { type: "string" }, json: { type: "boolean" } }, strict: true });
			if (values.name === undefined) throw new UsageError("--name is required");
			return withApp(config, out, async (app) => {
				const issued = await app.services.operators.reissue(values.name!);
				out.stdout(values.json ? JSON.stringify(linkJSON(issued)) : linkText(issued, "new enrollment link for"));
			});
		}
		if (action === "list") {
			const { values } = parseArgs({ args: rest, options: { json: { type: "boolean" } }, strict: true });
			return withApp(config, out, async (app) => {
				const list = await app.services.operators.list();
				out.stdout(values.json ? JSON.stringify({ operators: list }) : list.map(operatorLine).join("\n") || "no operators");
			});
		}
		if (action === "disable") {
			const { values } = parseArgs({ args: rest, options: { name: { type: "string" }, json: { type: "boolean" } }, strict: true });
			if (values.name === undefined) throw new UsageError("--name is required");
			return withApp(config, out, async (app) => {
				const disabled = await app.services.operators.disable(values.name!);
				out.stdout(values.json ? JSON.stringify({ operator: disabled }) : `operator ${disabled.name} disabled`);
			});
		}
		throw new UsageError(`unknown action ${JSON.stringify(action ?? "")}`);
	},
};

type App = Awaited<ReturnType<typeof createApp>>;

/** Opens the app, runs the action, closes it; a refusal of the service is one line on stderr and exit code 1. */
async function withApp(config: Parameters<typeof createApp>[0], out: { stderr(text: string): void }, action: (app: App) => Promise<void>): Promise<number> {
	const app = await createApp(config);
	try {
		await action(app);
		return 0;
	} catch (error) {
		if (!(error instanceof OperatorError)) throw error;
		out.stderr(`twofold: ${error.message}`);
		return 1;
	} finally {
		await app.close();
	}
}

function linkJSON(issued: EnrollmentLink) {
	return { operator: issued.operator, enrollment_link: issued.link, expires_at: issued.expires_at };
}

function linkText(issued: EnrollmentLink, what: string): string {
	const { operator } = issued;
	return (
		`${what} operator ${operator.name} (${operator.role}, ${scopeText(operator)})\n` +
		`enrollment link (shown once, single use, until ${issued.expires_at}; give it to ${operator.name} alone):\n${issued.link}`
	);
}

function scopeText(operator: PublicOperator): string {
	return operator.tenants === "all" ? "all tenants" : operator.tenants.join(", ");
}

function operatorLine(operator: PublicOperator): string {
	return [operator.name, operator.role, scopeText(operator), operator.status, `link ${operator.enrollment}`, operator.created_at].join("\t");
}
