import type { MessageKey } from "./i18n.js";
import { CancelForm, ErrorSummary, PasskeyForm, PostForm, TextField } from "./components.js";
import { Layout } from "./layout.js";
import type { FactorView, FieldError, PageContext, PasskeyCeremony } from "./view.js";

const KIND: Record<FactorView["type"], MessageKey> = { totp: "kind.totp", hotp: "kind.hotp", webauthn: "kind.webauthn" };

export const kindName = (page: PageContext, type: FactorView["type"]): string => page.t(KIND[type]);

function date(page: PageContext, time: number | null): string {
	if (time === null) return page.t("manage.never");
	return new Intl.DateTimeFormat(page.locale, { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }).format(time) + " UTC";
}

export interface ManagePageData {
	factors: readonly FactorView[];
	/** Renaming is offered when the service for it is there. */
	canRename: boolean;
	/** A status line after a change ("… was removed"). */
	notice: { key: MessageKey; values?: Record<string, string> } | null;
	errors: readonly FieldError[];
}

/**
 * Manage: the factors with names, kinds, when added and last used; rename; remove and new recovery codes, each
 * behind a proof given at that moment (the change page); add another; Done returns to the application.
 */
export function ManagePage({ page, data }: { page: PageContext; data: ManagePageData }) {
	const { t } = page;
	return (
		<Layout page={page} title={t("manage.title")}>
			<ErrorSummary page={page} errors={data.errors} />
			<h1 id="page-title">{t("manage.title")}</h1>
			{data.notice === null ? null : (
				<p class="notice" role="status" id="notice">
					{t(data.notice.key, data.notice.values)}
				</p>
			)}
			<ul class="factors" aria-label={t("manage.caption")} id="factors">
				{data.factors.map((factor) => (
					<li class="factor" id={`factor-${factor.id}`}>
						<h2 class="factor-name">{factor.label}</h2>
						<dl class="factor-facts">
							<dt>{t("manage.kind")}</dt>
							<dd>
								{kindName(page, factor.type)}
								{factor.status === "pending" ? ` (${t("manage.pending")})` : ""}
							</dd>
							<dt>{t("manage.created")}</dt>
							<dd>{date(page, factor.createdAt)}</dd>
							<dt>{t("manage.last_used")}</dt>
							<dd>{date(page, factor.lastUsedAt)}</dd>
						</dl>
						{data.canRename && factor.status === "active" ? (
							<PostForm page={page} action="/manage/rename" className="inline-form">
								<input type="hidden" name="factor_id" value={factor.id} />
								<TextField page={page} id={`rename-${factor.id}`} name="label" label={t("manage.rename_label", { name: factor.label })} errors={data.errors} value={factor.label} />
								<button type="submit" class="button button-secondary">
									{t("manage.rename")}
								</button>
							</PostForm>
						) : null}
						<PostForm page={page} action="/manage/remove" className="inline-form">
							<input type="hidden" name="factor_id" value={factor.id} />
							<button type="submit" class="button button-warning" id={`remove-${factor.id}`}>
								{t("manage.remove", { name: factor.label })}
							</button>
						</PostForm>
					</li>
				))}
			</ul>
			<p>
				<a class="button button-secondary" href={`${page.base}/enroll`} id="add-factor">
					{t("manage.add")}
				</a>
			</p>
			<section aria-labelledby="recovery-heading">
				<h2 id="recovery-heading" class="subheading">
					{t("manage.recovery_heading")}
				</h2>
				<p class="hint">{t("manage.recovery_hint")}</p>
				<PostForm page={page} action="/manage/regenerate">
					<button type="submit" class="button button-secondary" id="regenerate">
						{t("manage.regenerate")}
					</button>
				</PostForm>
			</section>
			<PostForm page={page} action="/manage/done">
				<button type="submit" class="button" id="done">
					{t("manage.done")}
				</button>
			</PostForm>
			<CancelForm page={page} label={t("cancel.button")} />
		</Layout>
	);
}

export interface ChangeProofData {
	change: { kind: "remove"; factorId: string; name: string } | { kind: "regenerate" };
	/** Code entry is offered when the user has an app or token; a passkey when it is usable here. */
	codeFactor: boolean;
	passkey: PasskeyCeremony | null;
	errors: readonly FieldError[];
}

/**
 * A change's proof, given now (R-LC-4, R-RC-5): a code, a recovery code or a passkey, passed with the change to the
 * service, which checks it through the attempt budget and requires the strength the change needs.
 */
export function ChangeProofPage({ page, data }: { page: PageContext; data: ChangeProofData }) {
	const { t } = page;
	const action = data.change.kind === "remove" ? "/manage/remove" : "/manage/regenerate";
	const hidden = data.change.kind === "remove" ? <input type="hidden" name="factor_id" value={data.change.factorId} /> : null;
	return (
		<Layout page={page} title={t("change.title")} passkey={data.passkey !== null}>
			<ErrorSummary page={page} errors={data.errors} />
			<h1 id="page-title">{t("change.title")}</h1>
			<p class="lead">{data.change.kind === "remove" ? t("change.remove", { name: data.change.name }) : t("change.regenerate")}</p>
			{data.passkey === null ? null : (
				<PasskeyForm page={page} action={action} ceremony="authenticate" options={data.passkey.options} challengeId={data.passkey.challengeId} label={t("verify.passkey")} id="passkey" noScript={t("verify.passkey_needs_js")} />
			)}
			<PostForm page={page} action={action} id="change-form">
				{hidden}
				<input type="hidden" name="proof" value="code" />
				<TextField
					page={page}
					id="code"
					name="code"
					label={data.codeFactor ? t("verify.code_label") : t("lost.code_label")}
					hint={data.codeFactor ? undefined : t("lost.code_hint")}
					errors={data.errors}
					code={data.codeFactor}
					autocomplete={data.codeFactor ? "one-time-code" : "off"}
				/>
				<button type="submit" class="button" id="change-submit">
					{t("change.submit")}
				</button>
			</PostForm>
			<p>
				<a href={page.base} id="back">
					{t("change.back")}
				</a>
			</p>
		</Layout>
	);
}
