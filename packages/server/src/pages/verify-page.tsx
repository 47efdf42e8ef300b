import { ActionNotice, CancelForm, ErrorSummary, PasskeyForm, PostForm, TextField } from "./components.js";
import { Layout } from "./layout.js";
import type { ActionView, FactorView, FieldError, PageContext, PasskeyCeremony } from "./view.js";

export interface VerifyPageData {
	factors: readonly FactorView[];
	/** Offered when the user has an active passkey and the tenant's rp_id and origins cover this origin. */
	passkey: PasskeyCeremony | null;
	totp: { digits: number; period: number };
	action: ActionView | null;
	errors: readonly FieldError[];
	/** "verify": sign-in; "reauth": a fresh proof before managing or adding factors. */
	purpose: "verify" | "reauth";
	/** A code by email to the address on record, when the route offers one (absent or null: not offered). */
	email?: EmailOffer | null;
}

/** The email code the route offers: the address masked (never in full), and whether this session sent one. */
export interface EmailOffer {
	maskedAddress: string;
	/** A code was sent on this interaction: the page shows its field. */
	sent: boolean;
	/** How long a code works, for the notice. */
	minutes: number;
}

/** "Send a code by email" (or, once sent, "Send a new code"): a post, so the send is CSRF-protected and never a prefetch. */
export function EmailSendForm({ page, email, id }: { page: PageContext; email: EmailOffer; id: string }) {
	return (
		<PostForm page={page} action="/email" id={`${id}-form`} className="inline-form">
			<button type="submit" class="button-link" id={id}>
				{email.sent ? page.t("verify.email_resend") : page.t("verify.email_send", { address: email.maskedAddress })}
			</button>
		</PostForm>
	);
}

/**
 * Verify: the user's factors, passkey first when there is one (strongest, and one tap), then the code field for an
 * app or token, then the other ways (a recovery code, lost access) and "I'm not signing in". Email codes are not
 * offered: the prompt knows no address for the user, and one typed in here would let whoever holds the session
 * pick where the code goes, which proves nothing (docs/prompt.md).
 */
export function VerifyPage({ page, data }: { page: PageContext; data: VerifyPageData }) {
	const { t } = page;
	const active = data.factors.filter((f) => f.status === "active");
	const hasCodeFactor = active.some((f) => f.type === "totp" || f.type === "hotp");
	const onlyHOTP = hasCodeFactor && !active.some((f) => f.type === "totp");
	return (
		<Layout page={page} title={t("verify.title")} passkey={data.passkey !== null}>
			<ErrorSummary page={page} errors={data.errors} />
			<h1 id="page-title">{t("verify.title")}</h1>
			{data.action === null ? null : <ActionNotice page={page} description={data.action.description} />}
			<p class="lead">{t("verify.lead")}</p>
			{data.email?.sent === true ? (
				<section aria-labelledby="email-heading" id="email-section">
					<p class="notice" role="status" id="email-heading">
						{t("verify.email_sent", { address: data.email.maskedAddress, minutes: data.email.minutes })}
					</p>
					<PostForm page={page} action="/verify" id="email-code-form">
						<TextField page={page} id="email-code" name="email_code" label={t("verify.email_code_label")} hint={t("verify.email_code_hint")} errors={data.errors} code autocomplete="one-time-code" />
						<button type="submit" class="button" id="email-submit">
							{t("verify.submit")}
						</button>
					</PostForm>
				</section>
			) : null}
			{data.passkey === null ? null : (
				<PasskeyForm
					page={page}
					action="/verify"
					ceremony="authenticate"
					options={data.passkey.options}
					challengeId={data.passkey.challengeId}
					label={t("verify.passkey")}
					id="passkey"
					noScript={t("verify.passkey_needs_js")}
				/>
			)}
			{hasCodeFactor ? (
				<PostForm page={page} action="/verify" id="code-form">
					<TextField
						page={page}
						id="code"
						name="code"
						label={t("verify.code_label")}
						hint={onlyHOTP ? t("verify.code_hint_hotp") : t("verify.code_hint", { digits: data.totp.digits, period: data.totp.period })}
						errors={data.errors}
						code
						autocomplete="one-time-code"
					/>
					<button type="submit" class={data.passkey === null ? "button" : "button button-secondary"} id="verify-submit">
						{t("verify.submit")}
					</button>
				</PostForm>
			) : null}
			<h2 class="subheading">{t("verify.other_ways")}</h2>
			<ul class="links">
				<li>
					<a href={`${page.base}/lost`} id="use-recovery">
						{t("verify.use_recovery")}
					</a>
				</li>
				{data.email === undefined || data.email === null ? null : (
					<li>
						<EmailSendForm page={page} email={data.email} id="email-send" />
					</li>
				)}
				<li>
					<a href={`${page.base}/lost#help`} id="lost-access">
						{t("verify.lost")}
					</a>
				</li>
			</ul>
			<CancelForm page={page} label={data.purpose === "verify" ? t("verify.cancel") : t("cancel.button")} />
		</Layout>
	);
}
