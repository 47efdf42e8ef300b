import type { ComponentChildren } from "preact";
import type { FieldError, PageContext } from "./view.js";

/** The error summary (GOV.UK pattern): first on the page, focusable, each error a link to its field. */
export function ErrorSummary({ page, errors }: { page: PageContext; errors: readonly FieldError[] }) {
	if (errors.length === 0) return null;
	return (
		<div class="error-summary" id="error-summary" role="alert" aria-labelledby="error-summary-title" tabIndex={-1}>
			<h2 id="error-summary-title">{page.t("error.summary")}</h2>
			<ul>
				{errors.map((error) => (
					<li>{error.field === null ? page.t(error.key, error.values) : <a href={`#${error.field}`}>{page.t(error.key, error.values)}</a>}</li>
				))}
			</ul>
		</div>
	);
}

/** A form that posts to this interaction with the CSRF token; method POST always. */
export function PostForm({ page, action, children, id, className }: { page: PageContext; action: string; children: ComponentChildren; id?: string; className?: string }) {
	return (
		<form method="post" action={`${page.base}${action}`} id={id} class={className} noValidate>
			<input type="hidden" name="csrf" value={page.csrf} />
			{children}
		</form>
	);
}

/**
 * A one-line text input with its visible label, hint and error (the error also in the summary). No maxlength:
 * a pasted code with spaces must not be cut (GOV.UK "Ask users for a security code").
 */
export function TextField(props: {
	page: PageContext;
	id: string;
	name: string;
	label: string;
	hint?: string;
	errors: readonly FieldError[];
	code?: boolean;
	autocomplete?: string;
	value?: string;
}) {
	const error = props.errors.find((e) => e.field === props.id);
	const described = [props.hint === undefined ? null : `${props.id}-hint`, error === undefined ? null : `${props.id}-error`].filter((v) => v !== null).join(" ");
	return (
		<div class={error === undefined ? "field" : "field field-error"}>
			<label for={props.id}>{props.label}</label>
			{props.hint === undefined ? null : (
				<p class="hint" id={`${props.id}-hint`}>
					{props.hint}
				</p>
			)}
			{error === undefined ? null : (
				<p class="error-message" id={`${props.id}-error`}>
					<span class="visually-hidden">{props.page.t("error.prefix")} </span>
					{props.page.t(error.key, error.values)}
				</p>
			)}
			<input
				type="text"
				id={props.id}
				name={props.name}
				class={props.code === true ? "input input-code" : "input"}
				autocomplete={props.autocomplete ?? "off"}
				inputMode={props.code === true ? "numeric" : undefined}
				spellcheck={false}
				autocapitalize={props.code === true ? "none" : undefined}
				aria-describedby={described.length > 0 ? described : undefined}
				aria-invalid={error === undefined ? undefined : "true"}
				value={props.value}
			/>
		</div>
	);
}

/** The application's action, as text in a box labelled as the application's own words (never as Twofold's). */
export function ActionNotice({ page, description }: { page: PageContext; description: string }) {
	return (
		<section class="action" aria-labelledby="action-heading">
			<h2 id="action-heading">{page.t("action.heading", { client: page.client.name })}</h2>
			<p class="action-description" id="action-description">
				{description}
			</p>
			<p class="hint">{page.t("action.note", { client: page.client.name })}</p>
		</section>
	);
}

/** "I'm not signing in": ends the interaction as cancelled (access_denied to the application). */
export function CancelForm({ page, label }: { page: PageContext; label?: string }) {
	return (
		<PostForm page={page} action="/cancel" className="cancel">
			<button type="submit" class="button-link" id="cancel">
				{label ?? page.t("verify.cancel")}
			</button>
		</PostForm>
	);
}

/** A button the passkey module (passkey.js) drives; the ceremony's options travel in a data attribute, as text. */
export function PasskeyForm(props: { page: PageContext; action: string; ceremony: "authenticate" | "register"; options: unknown; challengeId: string | null; label: string; id: string; noScript: string; primary?: boolean }) {
	return (
		<PostForm page={props.page} action={props.action} className="passkey-form" id={`${props.id}-form`}>
			{props.challengeId === null ? null : <input type="hidden" name="challenge_id" value={props.challengeId} />}
			<input type="hidden" name="credential" value="" />
			<button type="button" id={props.id} class={props.primary === false ? "button button-secondary" : "button"} data-passkey={props.ceremony} data-options={JSON.stringify(props.options)} hidden>
				{props.label}
			</button>
			<noscript>
				<p class="hint">{props.noScript}</p>
			</noscript>
		</PostForm>
	);
}
