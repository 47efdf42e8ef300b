import { type CodeOptions, codeDecider, type Decision, type StepUpOptions, stepUpDecider } from "./step-up.js";

/** The parts of Express's request and response the middleware uses (Express 4 and 5). */
export interface ExpressRequest {
	get(name: string): string | undefined;
}
export interface ExpressResponse {
	status(code: number): this;
	set(field: string, value: string): this;
	json(body: unknown): void;
	locals: Record<string, unknown>;
}
type Next = (error?: unknown) => void;

function send(decision: Decision, response: ExpressResponse, next: Next): void {
	if (decision.ok) {
		if (decision.claims !== undefined) response.locals.twofold = decision.claims;
		return next();
	}
	response.status(decision.status);
	for (const [name, value] of Object.entries(decision.headers)) response.set(name, value);
	response.json(decision.body);
}

/**
 * Standard mode: a route needing a fresh step-up assertion (claims in res.locals.twofold). Throws a TypeError
 * naming the option when the options are incomplete (docs/assertions.md), so a misconfiguration stops the start.
 */
export function requireStepUp<Request extends ExpressRequest>(options: StepUpOptions<Request>) {
	const decide = stepUpDecider(options);
	return (request: Request, response: ExpressResponse, next: Next): void => {
		decide(request, (name) => request.get(name)).then((decision) => send(decision, response, next), next);
	};
}

/** Header mode: a route needing a current code in a header (default X-2FA-Code). */
export function requireCode<Request extends ExpressRequest>(options: CodeOptions<Request>) {
	const decide = codeDecider(options);
	return (request: Request, response: ExpressResponse, next: Next): void => {
		decide(request, (name) => request.get(name)).then((decision) => send(decision, response, next), next);
	};
}
