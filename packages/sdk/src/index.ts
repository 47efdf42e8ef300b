export { type ActionValue, actionHash, canonicalJSON } from "./action-hash.js";
export * from "./client.js";
export { REQUEST_ACTION_VERSION, type RequestAction, requestAction } from "./request-action.js";
export { LOGGED_REASONS, REJECTION_REASONS, type RejectionReason } from "./rejection-reason.js";
export { ASSERTION_HEADER, CODE_HEADER, type CodeOptions, type RejectionDetail, type StepUpLogger, type StepUpOptions, stepUpChallenge } from "./step-up.js";
export { TwofoldError, type TwofoldErrorDetail } from "./twofold-error.js";
export { ACR, ALGORITHMS, ASSERTION_TYP, AssertionError, type AssertionFailure, createVerifier, DEFAULT_ACR_VALUES, type StepUpClaims, verifyAssertion } from "./verify-assertion.js";
export { pkceChallenge, randomToken } from "./pkce.js";
export {
	ACR_NONE,
	createPromptClient,
	ID_TOKEN_ALGORITHMS,
	type PromptClient,
	type PromptClientOptions,
	PromptError,
	type PromptFailure,
	type PromptIdTokenClaims,
	type PromptIntent,
	type PromptResult,
	type PromptSession,
	type PromptStart,
	type PromptStartOptions,
} from "./prompt.js";
