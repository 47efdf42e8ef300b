import { CancelForm, ErrorSummary, PasskeyForm, PostForm, TextField } from "./components.js";
import { Layout } from "./layout.js";
import type { FieldError, PageContext, PasskeyCeremony } from "./view.js";

export interface EnrollChoiceData {
	/** "first": the user has no active factor yet; "another": adding one (after a fresh proof). */
	mode: "first" | "another";
	/** Passkeys are offered only when the tenant's rp_id and origins cover this origin. */
	passkeyAvailable: boolean;
	errors: readonly FieldError[];
}

/** Enroll, step one: the kind (an authenticator app, or a passkey/security key) and an optional name. */
export function EnrollChoicePage({ page, data }: { page: PageContext; data: EnrollChoiceData }) {
	const { t } = page;
	const title = data.mode === "first" ? t("enroll.title") : t("enroll.title_add");
	const kindError = data.errors.find((e) => e.field === "kind-totp");
	return (
		<Layout page={page} title={title}>
			<ErrorSummary page={page} errors={data.errors} />
			<h1 id="page-title">{title}</h1>
			<p class="lead">{t("enroll.lead")}</p>
			<PostForm page={page} action="/enroll" id="enroll-form">
				<fieldset class={kindError === undefined ? "field" : "field field-error"} aria-describedby={kindError === undefined ? undefined : "kind-error"}>
					<legend>{t("enroll.kind_legend")}</legend>
					{kindError === undefined ? null : (
						<p class="error-message" id="kind-error">
							<span class="visually-hidden">{t("error.prefix")} </span>
							{t(kindError.key)}
						</p>
					)}
					<div class="choice">
						<input type="radio" id="kind-totp" name="kind" value="totp" checked={!data.passkeyAvailable} aria-describedby="kind-totp-hint" />
						<label for="kind-totp">{t("enroll.app")}</label>
						<p class="hint" id="kind-totp-hint">
							{t("enroll.app_hint")}
						</p>
					</div>
					{data.passkeyAvailable ? (
						<div class="choice">
							<input type="radio" id="kind-webauthn" name="kind" value="webauthn" aria-describedby="kind-webauthn-hint" />
							<label for="kind-webauthn">{t("enroll.passkey")}</label>
							<p class="hint" id="kind-webauthn-hint">
								{t("enroll.passkey_hint")}
							</p>
						</div>
					) : null}
				</fieldset>
				<TextField page={page} id="label" name="label" label={t("enroll.label")} hint={t("enroll.label_hint")} errors={data.errors} />
				<button type="submit" class="button" id="enroll-submit">
					{t("enroll.submit")}
				</button>
			</PostForm>
			<CancelForm page={page} label={t("cancel.button")} />
		</Layout>
	);
}

export interface AppSetupData {
	/** The SVG of the otpauth URI's QR code (factors/qr-render.ts, in-process), shown as an image: inert. */
	qrSvg: string;
	/** The base32 key; shown in groups of four. */
	secret: string;
	issuer: string;
	account: string;
	digits: number;
	period: number;
	errors: readonly FieldError[];
}

/** "ABCDEFGH…" → "ABCD EFGH …": easier to type and to check. */
export const groupsOfFour = (secret: string): string => (secret.match(/.{1,4}/g) ?? []).join(" ");

/** Enroll with an app: the QR code, the key for manual entry with a copy button, the issuer and account, then a code to confirm. */
export function AppSetupPage({ page, data }: { page: PageContext; data: AppSetupData }) {
	const { t } = page;
	const qr = `data:image/svg+xml;base64,${Buffer.from(data.qrSvg, "utf8").toString("base64")}`;
	return (
		<Layout page={page} title={t("app.title")}>
			<ErrorSummary page={page} errors={data.errors} />
			<h1 id="page-title">{t("app.title")}</h1>
			<p>{t("app.scan")}</p>
			<img class="qr" id="qr" src={qr} alt={t("app.qr_alt", { account: data.account, issuer: data.issuer })} width={220} height={220} />
			<details class="manual">
				<summary>{t("app.manual")}</summary>
				<dl class="key-facts">
					<dt>{t("app.key")}</dt>
					<dd>
						<code class="secret" id="secret">
							{groupsOfFour(data.secret)}
						</code>{" "}
						<button type="button" class="button button-secondary button-small" data-copy="#secret" data-copied={t("app.copied")} hidden>
							{t("app.copy")}
						</button>
					</dd>
					<dt>{t("app.issuer")}</dt>
					<dd id="issuer">{data.issuer}</dd>
					<dt>{t("app.account")}</dt>
					<dd id="account">{data.account}</dd>
					<dd class="hint">{t("app.time_based", { digits: data.digits, period: data.period })}</dd>
				</dl>
			</details>
			<PostForm page={page} action="/enroll/confirm" id="confirm-form">
				<TextField page={page} id="code" name="code" label={t("app.confirm")} errors={data.errors} code autocomplete="one-time-code" />
				<button type="submit" class="button" id="confirm-submit">
					{t("app.confirm_submit")}
				</button>
			</PostForm>
			<PostForm page={page} action="/enroll/restart">
				<button type="submit" class="button-link" id="restart">
					{t("app.restart")}
				</button>
			</PostForm>
			<CancelForm page={page} label={t("cancel.button")} />
		</Layout>
	);
}

/** Enroll with a passkey: one button runs navigator.credentials.create() with Twofold's options and posts the response. */
export function PasskeySetupPage({ page, data }: { page: PageContext; data: { ceremony: PasskeyCeremony; errors: readonly FieldError[] } }) {
	const { t } = page;
	return (
		<Layout page={page} title={t("passkey.title")} passkey>
			<ErrorSummary page={page} errors={data.errors} />
			<h1 id="page-title">{t("passkey.title")}</h1>
			<p class="lead">{t("passkey.lead")}</p>
			<PasskeyForm page={page} action="/enroll/confirm" ceremony="register" options={data.ceremony.options} challengeId={null} label={t("passkey.start")} id="passkey-create" noScript={t("passkey.needs_js")} />
			<PostForm page={page} action="/enroll/restart">
				<button type="submit" class="button-link" id="restart">
					{t("app.restart")}
				</button>
			</PostForm>
			<CancelForm page={page} label={t("cancel.button")} />
		</Layout>
	);
}
