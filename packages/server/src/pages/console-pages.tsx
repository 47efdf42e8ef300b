import type { ComponentChildren } from "preact";
import { BarChart } from "./bar-chart.js";
import type { MessageKey } from "./locales/en.js";
import { ErrorSummary, PostForm, TextField } from "./components.js";
import { directionOf } from "./i18n.js";
import type { FieldError, PageContext } from "./view.js";

/**
 * The console's pages (issue 16), built like the prompt's: server-rendered, escaped by preact-render-to-string,
 * same-origin assets, a module script only where the browser must act (reading the enrollment link's fragment).
 * Every form posts with the CSRF token and works without script, except that the enrollment code must be pasted.
 */
/**
 * A table that scrolls sideways on a narrow screen (a data table may, WCAG 1.4.10): the scrolling region is
 * focusable and named, so a keyboard can scroll it too (axe scrollable-region-focusable).
 */
function ScrollTable({ label, children }: { label: string; children: ComponentChildren }) {
	return (
		<div class="table-wrap" tabIndex={0} role="region" aria-label={label}>
			{children}
		</div>
	);
}

/** A time as an operator reads it at a glance: to the minute, in UTC, said so. */
export const shownTime = (iso: string): string => `${iso.slice(0, 16).replace("T", " ")} UTC`;

export interface ConsoleOperatorView {
	name: string;
	role: string;
	tenants: "all" | readonly string[];
}

function ConsoleLayout({ page, title, children, script }: { page: PageContext; title: string; children: ComponentChildren; script?: string }) {
	return (
		<html lang={page.locale} dir={directionOf(page.locale)}>
			<head>
				<meta charset="utf-8" />
				<meta name="viewport" content="width=device-width, initial-scale=1" />
				<meta name="referrer" content="no-referrer" />
				<title>{page.t("layout.title", { page: title, tenant: page.t("console.title") })}</title>
				<link rel="stylesheet" href={page.assets.stylesheet} />
				<script type="module" src={page.assets.script} nonce={page.nonce} />
				{script === undefined ? null : <script type="module" src={script} nonce={page.nonce} />}
			</head>
			<body>
				<header class="masthead">
					<span class="tenant-name" id="tenant-name">
						{page.t("console.title")}
					</span>
				</header>
				<main class="page page-wide" id="main">
					{children}
				</main>
			</body>
		</html>
	);
}

export function ConsoleSignInPage({ page, errors, name, notice }: { page: PageContext; errors: readonly FieldError[]; name?: string; notice?: string }) {
	return (
		<ConsoleLayout page={page} title={page.t("console.sign_in_title")}>
			<ErrorSummary page={page} errors={errors} />
			<h1 id="page-title">{page.t("console.sign_in_title")}</h1>
			{notice === undefined ? null : (
				<p class="notice" id="notice" role="status">
					{notice}
				</p>
			)}
			<p class="lead">{page.t("console.sign_in_lead")}</p>
			<PostForm page={page} action="/sign-in" id="sign-in-form">
				<TextField page={page} id="name" name="name" label={page.t("console.name_label")} hint={page.t("console.name_hint")} errors={errors} autocomplete="username webauthn" value={name} />
				<button type="submit" class="button" id="sign-in">
					{page.t("console.sign_in_submit")}
				</button>
			</PostForm>
		</ConsoleLayout>
	);
}

export function ConsoleEnrollPage({ page, errors, script }: { page: PageContext; errors: readonly FieldError[]; script: string }) {
	return (
		<ConsoleLayout page={page} title={page.t("console.enroll_title")} script={script}>
			<ErrorSummary page={page} errors={errors} />
			<h1 id="page-title">{page.t("console.enroll_title")}</h1>
			<p class="lead">{page.t("console.enroll_lead")}</p>
			<PostForm page={page} action="/enroll" id="enroll-form">
				<TextField page={page} id="token" name="token" label={page.t("console.enroll_code_label")} hint={page.t("console.enroll_code_hint")} errors={errors} />
				<button type="submit" class="button" id="enroll">
					{page.t("console.enroll_submit")}
				</button>
			</PostForm>
		</ConsoleLayout>
	);
}

export interface ConsoleTenantView {
	id: string;
	name: string;
}

/** The signed-in operator's own line and sign-out, at the top of every signed-in page. */
function OperatorBar({ page, operator }: { page: PageContext; operator: ConsoleOperatorView }) {
	return (
		<div class="operator-bar">
			<p id="signed-in-as">{page.t("console.signed_in_as", { name: operator.name, role: operator.role })}</p>
			<form method="post" action="/console/sign-out" id="sign-out-form" noValidate>
				<input type="hidden" name="csrf" value={page.csrf} />
				<button type="submit" class="button-link" id="sign-out">
					{page.t("console.sign_out")}
				</button>
			</form>
		</div>
	);
}

export function ConsoleHomePage({ page, operator, tenants }: { page: PageContext; operator: ConsoleOperatorView; tenants: readonly ConsoleTenantView[] }) {
	return (
		<ConsoleLayout page={page} title={page.t("console.home_title")}>
			<OperatorBar page={page} operator={operator} />
			<h1 id="page-title">{page.t("console.home_title")}</h1>
			<p id="scope">{operator.tenants === "all" ? page.t("console.tenants_all") : page.t("console.tenants_some", { tenants: operator.tenants.join(", ") })}</p>
			<h2 class="subheading">{page.t("console.tenants_heading")}</h2>
			<ul class="links" id="tenants">
				{tenants.map((tenant) => (
					<li>
						<a href={`/console/t/${encodeURIComponent(tenant.id)}`}>{tenant.name}</a> <span class="hint">{tenant.id}</span>{" "}
						<a href={`/console/t/${encodeURIComponent(tenant.id)}/users`} aria-label={page.t("console.users_of", { tenant: tenant.name })}>
							{page.t("console.users")}
						</a>{" "}
						<a href={`/console/t/${encodeURIComponent(tenant.id)}/webhooks`} aria-label={page.t("console.webhooks_of", { tenant: tenant.name })}>
							{page.t("console.webhooks")}
						</a>{" "}
						<a href={`/console/t/${encodeURIComponent(tenant.id)}/keys`} aria-label={page.t("console.keys_of", { tenant: tenant.name })}>
							{page.t("console.keys")}
						</a>{" "}
						<a href={`/console/t/${encodeURIComponent(tenant.id)}/events`} aria-label={page.t("console.events_of", { tenant: tenant.name })}>
							{page.t("console.events")}
						</a>{" "}
						<a href={`/console/t/${encodeURIComponent(tenant.id)}/settings`} aria-label={page.t("console.settings_of", { tenant: tenant.name })}>
							{page.t("console.settings")}
						</a>
					</li>
				))}
			</ul>
		</ConsoleLayout>
	);
}

/** The overview's figures, already read from the rollups (services/event-rollups.ts). */
export interface ConsoleOverviewView {
	/** Per hour, oldest first: a label ("2026-12-03 14:00 UTC") and each metric's count. */
	day: { labels: readonly string[]; values: Readonly<Record<OverviewMetric, readonly number[]>> };
	week: { labels: readonly string[]; values: Readonly<Record<OverviewMetric, readonly number[]>> };
	gauges: { any: number; totp: number; hotp: number; webauthn: number };
	webhooks: readonly { id: string; url: string; enabled: boolean; pending: number; retrying: number; oldest: string | null }[];
	/** Events written and not yet counted (the last two minutes', or a fold behind). */
	pendingEvents: number;
}
export type OverviewMetric = "verify.ok.totp" | "verify.ok.hotp" | "verify.ok.webauthn" | "verify.ok.recovery_code" | "verify.failed" | "verify.replayed" | "lockouts";

const OVERVIEW_STACKS: readonly { metric: OverviewMetric; className: string; label: MessageKey }[] = [
	{ metric: "verify.ok.totp", className: "bar-totp", label: "console.metric_totp" },
	{ metric: "verify.ok.hotp", className: "bar-hotp", label: "console.metric_hotp" },
	{ metric: "verify.ok.webauthn", className: "bar-webauthn", label: "console.metric_webauthn" },
	{ metric: "verify.ok.recovery_code", className: "bar-recovery", label: "console.metric_recovery_code" },
	{ metric: "verify.failed", className: "bar-failed", label: "console.metric_failed" },
	{ metric: "verify.replayed", className: "bar-replayed", label: "console.metric_replayed" },
];

function TenantNav({ page, tenant }: { page: PageContext; tenant: ConsoleTenantView }) {
	const base = `/console/t/${encodeURIComponent(tenant.id)}`;
	return (
		<nav aria-label={page.t("console.tenant_nav", { tenant: tenant.name })}>
			<ul class="links tenant-nav">
				<li>
					<a href="/console">{page.t("console.home_title")}</a>
				</li>
				<li>
					<a href={`${base}/users`}>{page.t("console.users")}</a>
				</li>
				<li>
					<a href={`${base}/events`}>{page.t("console.events")}</a>
				</li>
				<li>
					<a href={`${base}/webhooks`}>{page.t("console.webhooks")}</a>
				</li>
				<li>
					<a href={`${base}/keys`}>{page.t("console.keys")}</a>
				</li>
				<li>
					<a href={`${base}/settings`}>{page.t("console.settings")}</a>
				</li>
			</ul>
		</nav>
	);
}

function OverviewChart({ page, id, heading, series, tableRows }: { page: PageContext; id: string; heading: string; series: ConsoleOverviewView["day"]; tableRows: readonly { label: string; values: readonly number[] }[] }) {
	const stacks = OVERVIEW_STACKS.map((stack) => ({ className: stack.className, label: page.t(stack.label), values: series.values[stack.metric] }));
	const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);
	const ok = sum(["verify.ok.totp", "verify.ok.hotp", "verify.ok.webauthn", "verify.ok.recovery_code"].flatMap((metric) => series.values[metric as OverviewMetric]));
	const failed = sum(series.values["verify.failed"]);
	const lockouts = sum(series.values.lockouts);
	return (
		<section aria-labelledby={`${id}-heading`}>
			<h2 id={`${id}-heading`}>{heading}</h2>
			<p class="totals" id={`${id}-totals`}>
				{page.t("console.overview_totals", { ok, failed, lockouts })}
			</p>
			<BarChart id={`${id}-chart`} label={page.t("console.chart_label", { heading, ok, failed })} barLabels={series.labels} stacks={stacks} scaleLabel={(max) => page.t("console.chart_max", { max })} />
			<details>
				<summary>{page.t("console.chart_numbers")}</summary>
				<ScrollTable label={heading}>
					<table class="table" id={`${id}-table`}>
						<thead>
							<tr>
								<th scope="col">{page.t("console.chart_time")}</th>
								{OVERVIEW_STACKS.map((stack) => (
									<th scope="col">{page.t(stack.label)}</th>
								))}
								<th scope="col">{page.t("console.metric_lockouts")}</th>
							</tr>
						</thead>
						<tbody>
							{tableRows.map((row) => (
								<tr>
									<th scope="row">{row.label}</th>
									{row.values.map((value) => (
										<td>{value}</td>
									))}
								</tr>
							))}
						</tbody>
					</table>
				</ScrollTable>
			</details>
		</section>
	);
}

export function ConsoleOverviewPage({ page, operator, tenant, overview }: { page: PageContext; operator: ConsoleOperatorView; tenant: ConsoleTenantView; overview: ConsoleOverviewView }) {
	const metrics: readonly OverviewMetric[] = [...OVERVIEW_STACKS.map((stack) => stack.metric), "lockouts"];
	const hourRows = overview.day.labels.map((label, i) => ({ label, values: metrics.map((metric) => overview.day.values[metric][i] ?? 0) }));
	// The week's table per day (7 rows, the hours summed); its chart keeps every hour.
	const dayRows: { label: string; values: number[] }[] = [];
	overview.week.labels.forEach((label, i) => {
		const day = label.slice(0, 10);
		if (dayRows.at(-1)?.label !== day) dayRows.push({ label: day, values: metrics.map(() => 0) });
		metrics.forEach((metric, m) => (dayRows.at(-1)!.values[m]! += overview.week.values[metric][i] ?? 0));
	});
	const base = `/console/t/${encodeURIComponent(tenant.id)}`;
	return (
		<ConsoleLayout page={page} title={page.t("console.overview_of", { tenant: tenant.name })}>
			<OperatorBar page={page} operator={operator} />
			<TenantNav page={page} tenant={tenant} />
			<h1 id="page-title">{page.t("console.overview_of", { tenant: tenant.name })}</h1>
			<dl class="gauges" id="gauges">
				<div>
					<dt>{page.t("console.gauge_users")}</dt>
					<dd id="gauge-users">{overview.gauges.any}</dd>
				</div>
				<div>
					<dt>{page.t("console.gauge_totp")}</dt>
					<dd id="gauge-totp">{overview.gauges.totp}</dd>
				</div>
				<div>
					<dt>{page.t("console.gauge_hotp")}</dt>
					<dd id="gauge-hotp">{overview.gauges.hotp}</dd>
				</div>
				<div>
					<dt>{page.t("console.gauge_webauthn")}</dt>
					<dd id="gauge-webauthn">{overview.gauges.webauthn}</dd>
				</div>
			</dl>
			<OverviewChart page={page} id="day" heading={page.t("console.overview_day")} series={overview.day} tableRows={hourRows} />
			<OverviewChart page={page} id="week" heading={page.t("console.overview_week")} series={overview.week} tableRows={dayRows} />
			<p class="hint" id="fold-note">
				{page.t("console.overview_lag", { pending: overview.pendingEvents })}
			</p>
			<h2>{page.t("console.webhooks")}</h2>
			{overview.webhooks.length === 0 ? (
				<p id="no-webhooks">{page.t("console.no_webhooks")}</p>
			) : (
				<ScrollTable label={page.t("console.webhooks")}>
					<table class="table" id="webhook-backlog">
						<thead>
							<tr>
								<th scope="col">{page.t("console.webhook_url")}</th>
								<th scope="col">{page.t("console.state")}</th>
								<th scope="col">{page.t("console.backlog_pending")}</th>
								<th scope="col">{page.t("console.backlog_retrying")}</th>
								<th scope="col">{page.t("console.backlog_oldest")}</th>
							</tr>
						</thead>
						<tbody>
							{overview.webhooks.map((webhook) => (
								<tr class={webhook.retrying > 0 || !webhook.enabled ? "failing" : undefined}>
									<td>
										<a href={`${base}/webhooks/${encodeURIComponent(webhook.id)}`}>{webhook.url}</a>
									</td>
									<td>{webhook.enabled ? page.t("console.webhook_enabled") : page.t("console.webhook_disabled")}</td>
									<td>{webhook.pending}</td>
									<td>{webhook.retrying}</td>
									<td>{webhook.oldest === null ? "–" : shownTime(webhook.oldest)}</td>
								</tr>
							))}
						</tbody>
					</table>
				</ScrollTable>
			)}
		</ConsoleLayout>
	);
}

export interface ConsoleUserRow {
	id: string;
	locked: boolean;
	created_at: string;
}

export function ConsoleUsersPage(props: {
	page: PageContext;
	operator: ConsoleOperatorView;
	tenant: ConsoleTenantView;
	query: { q: string; locked: boolean };
	users: readonly ConsoleUserRow[];
	next?: string;
	notice?: string;
}) {
	const { page, tenant } = props;
	const base = `/console/t/${encodeURIComponent(tenant.id)}/users`;
	const nextQuery = props.next === undefined ? null : new URLSearchParams({ ...(props.query.q === "" ? {} : { q: props.query.q }), ...(props.query.locked ? { locked: "1" } : {}), after: props.next }).toString();
	return (
		<ConsoleLayout page={page} title={page.t("console.users_title", { tenant: tenant.name })}>
			<OperatorBar page={page} operator={props.operator} />
			<p>
				<a href="/console">{page.t("console.home_title")}</a>
			</p>
			<h1 id="page-title">{page.t("console.users_title", { tenant: tenant.name })}</h1>
			{props.notice === undefined ? null : (
				<p class="notice" id="notice" role="status">
					{props.notice}
				</p>
			)}
			<form method="get" action={base} id="search-form" role="search">
				<div class="field">
					<label for="q">{page.t("console.search_label")}</label>
					<p class="hint" id="q-hint">
						{page.t("console.search_hint")}
					</p>
					<input type="text" id="q" name="q" class="input" value={props.query.q} aria-describedby="q-hint" autocomplete="off" spellcheck={false} />
				</div>
				<div class="field check">
					<input type="checkbox" id="locked" name="locked" value="1" checked={props.query.locked} />
					<label for="locked">{page.t("console.locked_only")}</label>
				</div>
				<button type="submit" class="button" id="search">
					{page.t("console.search_submit")}
				</button>
			</form>
			{props.users.length === 0 ? (
				<p id="no-users">{page.t("console.no_users")}</p>
			) : (
				<ScrollTable label={page.t("console.users_title", { tenant: tenant.name })}>
				<table class="table" id="users">
					<thead>
						<tr>
							<th scope="col">{page.t("console.user_id")}</th>
							<th scope="col">{page.t("console.state")}</th>
							<th scope="col">{page.t("console.created")}</th>
						</tr>
					</thead>
					<tbody>
						{props.users.map((user) => (
							<tr>
								<td>
									<a href={`${base}/${encodeURIComponent(user.id)}`}>{user.id}</a>
								</td>
								<td>{user.locked ? page.t("console.locked") : page.t("console.not_locked")}</td>
								<td>{shownTime(user.created_at)}</td>
							</tr>
						))}
					</tbody>
				</table>
				</ScrollTable>
			)}
			{nextQuery === null ? null : (
				<p>
					<a href={`${base}?${nextQuery}`} id="next-page" rel="next">
						{page.t("console.next_page")}
					</a>
				</p>
			)}
		</ConsoleLayout>
	);
}

export interface ConsoleUserView {
	id: string;
	locked: boolean;
	created_at: string;
	recovery_codes_remaining: number;
	factors: readonly { id: string; type: string; status: string; label: string; created_at: string; last_used_at: string | null }[];
	events: readonly { id: string; type: string; created_at: string; data: string }[];
}

export function ConsoleUserPage(props: {
	page: PageContext;
	operator: ConsoleOperatorView;
	tenant: ConsoleTenantView;
	user: ConsoleUserView;
	canAct: boolean;
	errors: readonly FieldError[];
	notice?: string;
}) {
	const { page, tenant, user } = props;
	return (
		<ConsoleLayout page={page} title={page.t("console.user_title", { user: user.id })}>
			<OperatorBar page={page} operator={props.operator} />
			<p>
				<a href={`/console/t/${encodeURIComponent(tenant.id)}/users`}>{page.t("console.users_title", { tenant: tenant.name })}</a>
			</p>
			<ErrorSummary page={page} errors={props.errors} />
			<h1 id="page-title">{page.t("console.user_title", { user: user.id })}</h1>
			{props.notice === undefined ? null : (
				<p class="notice" id="notice" role="status">
					{props.notice}
				</p>
			)}
			<dl class="facts">
				<dt>{page.t("console.state")}</dt>
				<dd id="lock-state">{user.locked ? page.t("console.locked") : page.t("console.not_locked")}</dd>
				<dt>{page.t("console.recovery_codes")}</dt>
				<dd id="recovery-codes">{String(user.recovery_codes_remaining)}</dd>
				<dt>{page.t("console.created")}</dt>
				<dd>{shownTime(user.created_at)}</dd>
			</dl>
			<h2 class="subheading">{page.t("console.factors_heading")}</h2>
			{user.factors.length === 0 ? (
				<p id="no-factors">{page.t("console.no_factors")}</p>
			) : (
				<ScrollTable label={page.t("console.factors_heading")}>
				<table class="table" id="factors">
					<thead>
						<tr>
							<th scope="col">{page.t("console.factor_kind")}</th>
							<th scope="col">{page.t("console.factor_name")}</th>
							<th scope="col">{page.t("console.state")}</th>
							<th scope="col">{page.t("console.created")}</th>
							<th scope="col">{page.t("console.last_used")}</th>
						</tr>
					</thead>
					<tbody>
						{user.factors.map((factor) => (
							<tr>
								<td>{factor.type}</td>
								<td>{factor.label}</td>
								<td>{factor.status}</td>
								<td>{shownTime(factor.created_at)}</td>
								<td>{factor.last_used_at === null ? page.t("console.never") : shownTime(factor.last_used_at)}</td>
							</tr>
						))}
					</tbody>
				</table>
				</ScrollTable>
			)}
			{props.canAct ? (
				<section aria-labelledby="actions-heading">
					<h2 class="subheading" id="actions-heading">
						{page.t("console.actions_heading")}
					</h2>
					<p class="hint">{page.t("console.step_up_hint")}</p>
					{user.locked ? (
						<PostForm page={page} action="/unlock" id="unlock-form">
							<button type="submit" class="button" id="unlock">
								{page.t("console.unlock")}
							</button>
						</PostForm>
					) : null}
					{user.factors.length === 0 ? null : (
						<PostForm page={page} action="/remove-factor" id="remove-factor-form">
							<div class="field">
								<label for="factor">{page.t("console.remove_factor_label")}</label>
								<select id="factor" name="factor" class="input">
									{user.factors.map((factor) => (
										<option value={factor.id}>{`${factor.label} (${factor.type}, ${factor.status})`}</option>
									))}
								</select>
							</div>
							<TextField page={page} id="remove-reason" name="reason" label={page.t("console.remove_reason")} errors={props.errors} />
							<button type="submit" class="button button-warning" id="remove-factor">
								{page.t("console.remove_factor")}
							</button>
						</PostForm>
					)}
					<PostForm page={page} action="/reset" id="reset-form">
						<TextField page={page} id="reason" name="reason" label={page.t("console.reset_reason")} hint={page.t("console.reset_hint")} errors={props.errors} />
						<TextField page={page} id="notify" name="notify" label={page.t("console.reset_notify")} hint={page.t("console.reset_notify_hint")} errors={props.errors} autocomplete="off" />
						<button type="submit" class="button button-warning" id="reset">
							{page.t("console.reset")}
						</button>
					</PostForm>
					<PostForm page={page} action="/erase" id="erase-form">
						<TextField page={page} id="confirm-id" name="confirm" label={page.t("console.erase_confirm", { user: user.id })} hint={page.t("console.erase_hint")} errors={props.errors} />
						<button type="submit" class="button button-warning" id="erase">
							{page.t("console.erase")}
						</button>
					</PostForm>
				</section>
			) : null}
			<h2 class="subheading">{page.t("console.events_heading")}</h2>
			<ol class="timeline" id="events">
				{user.events.map((event) => (
					<li>
						<details>
							<summary>
								<span class="event-type">{event.type}</span> <span class="hint">{event.created_at.replace("T", " ").replace("Z", " UTC")}</span>
							</summary>
							<pre class="event-data" tabIndex={0}>{event.data}</pre>
						</details>
					</li>
				))}
			</ol>
		</ConsoleLayout>
	);
}

export interface ConsoleWebhookView {
	id: string;
	url: string;
	events: readonly string[];
	enabled: boolean;
	created_at: string;
	disabled_at: string | null;
}

export function ConsoleWebhooksPage({ page, operator, tenant, webhooks }: { page: PageContext; operator: ConsoleOperatorView; tenant: ConsoleTenantView; webhooks: readonly ConsoleWebhookView[] }) {
	const base = `/console/t/${encodeURIComponent(tenant.id)}/webhooks`;
	return (
		<ConsoleLayout page={page} title={page.t("console.webhooks_of", { tenant: tenant.name })}>
			<OperatorBar page={page} operator={operator} />
			<p>
				<a href="/console">{page.t("console.home_title")}</a>
			</p>
			<h1 id="page-title">{page.t("console.webhooks_of", { tenant: tenant.name })}</h1>
			{webhooks.length === 0 ? (
				<p id="no-webhooks">{page.t("console.no_webhooks")}</p>
			) : (
				<ScrollTable label={page.t("console.webhooks")}>
					<table class="table" id="webhooks">
						<thead>
							<tr>
								<th scope="col">{page.t("console.webhook_url")}</th>
								<th scope="col">{page.t("console.webhook_events")}</th>
								<th scope="col">{page.t("console.state")}</th>
							</tr>
						</thead>
						<tbody>
							{webhooks.map((webhook) => (
								<tr>
									<td>
										<a href={`${base}/${encodeURIComponent(webhook.id)}`}>{webhook.url}</a>
									</td>
									<td>{webhook.events.join(", ")}</td>
									<td>{webhook.enabled ? page.t("console.webhook_enabled") : page.t("console.webhook_disabled")}</td>
								</tr>
							))}
						</tbody>
					</table>
				</ScrollTable>
			)}
		</ConsoleLayout>
	);
}

export interface ConsoleDeliveryView {
	id: string;
	event_type: string;
	status: string;
	attempts: number;
	last_status_code: number | null;
	last_error: string | null;
	next_attempt_at: string | null;
	created_at: string;
}

export function ConsoleWebhookPage(props: {
	page: PageContext;
	operator: ConsoleOperatorView;
	tenant: ConsoleTenantView;
	webhook: ConsoleWebhookView;
	deliveries: readonly ConsoleDeliveryView[];
	canRetry: boolean;
	canChange: boolean;
	notice?: string;
	secret?: { value: string; previousUntil: string };
}) {
	const { page, tenant, webhook } = props;
	return (
		<ConsoleLayout page={page} title={page.t("console.webhook_title")}>
			<OperatorBar page={page} operator={props.operator} />
			<p>
				<a href={`/console/t/${encodeURIComponent(tenant.id)}/webhooks`}>{page.t("console.webhooks_of", { tenant: tenant.name })}</a>
			</p>
			<h1 id="page-title">{page.t("console.webhook_title")}</h1>
			{props.notice === undefined ? null : (
				<p class="notice" id="notice" role="status">
					{props.notice}
				</p>
			)}
			{props.secret === undefined ? null : (
				<section class="action" aria-labelledby="secret-heading">
					<h2 id="secret-heading">{page.t("console.secret_heading")}</h2>
					<p>
						<code class="secret" id="new-secret">
							{props.secret.value}
						</code>
					</p>
					<p class="hint">{page.t("console.secret_hint", { until: shownTime(props.secret.previousUntil) })}</p>
				</section>
			)}
			<dl class="facts">
				<dt>{page.t("console.webhook_url")}</dt>
				<dd id="webhook-url">{webhook.url}</dd>
				<dt>{page.t("console.webhook_events")}</dt>
				<dd>{webhook.events.join(", ")}</dd>
				<dt>{page.t("console.state")}</dt>
				<dd id="webhook-state">{webhook.enabled ? page.t("console.webhook_enabled") : page.t("console.webhook_disabled")}</dd>
			</dl>
			{props.canChange ? (
				<section aria-labelledby="webhook-actions">
					<h2 class="subheading" id="webhook-actions">
						{page.t("console.actions_heading")}
					</h2>
					<p class="hint">{page.t("console.step_up_hint")}</p>
					<PostForm page={page} action={webhook.enabled ? "/disable" : "/enable"} id="toggle-form">
						<button type="submit" class="button button-secondary" id="toggle">
							{webhook.enabled ? page.t("console.webhook_disable") : page.t("console.webhook_enable")}
						</button>
					</PostForm>
					<PostForm page={page} action="/rotate" id="rotate-form">
						<button type="submit" class="button button-warning" id="rotate">
							{page.t("console.webhook_rotate")}
						</button>
					</PostForm>
				</section>
			) : null}
			<h2 class="subheading">{page.t("console.deliveries_heading")}</h2>
			{props.deliveries.length === 0 ? (
				<p id="no-deliveries">{page.t("console.no_deliveries")}</p>
			) : (
				<ScrollTable label={page.t("console.deliveries_heading")}>
					<table class="table" id="deliveries">
						<thead>
							<tr>
								<th scope="col">{page.t("console.delivery_event")}</th>
								<th scope="col">{page.t("console.state")}</th>
								<th scope="col">{page.t("console.delivery_attempts")}</th>
								<th scope="col">{page.t("console.delivery_last")}</th>
								<th scope="col">{page.t("console.delivery_next")}</th>
								{props.canRetry ? <th scope="col">{page.t("console.actions_heading")}</th> : null}
							</tr>
						</thead>
						<tbody>
							{props.deliveries.map((delivery) => (
								<tr>
									<td>
										{delivery.event_type} <span class="hint">{shownTime(delivery.created_at)}</span>
									</td>
									<td>{delivery.status}</td>
									<td>{String(delivery.attempts)}</td>
									<td>{[delivery.last_status_code === null ? null : String(delivery.last_status_code), delivery.last_error].filter((part) => part !== null).join(" ")}</td>
									<td>{delivery.next_attempt_at === null ? "" : shownTime(delivery.next_attempt_at)}</td>
									{props.canRetry ? (
										<td>
											{delivery.status === "delivered" ? null : (
												<PostForm page={page} action={`/deliveries/${encodeURIComponent(delivery.id)}/retry`} className="inline-form">
													<button type="submit" class="button-link" aria-label={page.t("console.delivery_retry_of", { event: delivery.event_type })}>
														{page.t("console.delivery_retry")}
													</button>
												</PostForm>
											)}
										</td>
									) : null}
								</tr>
							))}
						</tbody>
					</table>
				</ScrollTable>
			)}
		</ConsoleLayout>
	);
}

export interface ConsoleKeyView {
	key_id: string;
	scope: string;
	created_at: string;
	last_used_at: string | null;
	revoked_at: string | null;
}

export function ConsoleKeysPage(props: {
	page: PageContext;
	operator: ConsoleOperatorView;
	tenant: ConsoleTenantView;
	keys: readonly ConsoleKeyView[];
	canChange: boolean;
	notice?: string;
	created?: { token: string; scope: string };
}) {
	const { page, tenant } = props;
	return (
		<ConsoleLayout page={page} title={page.t("console.keys_of", { tenant: tenant.name })}>
			<OperatorBar page={page} operator={props.operator} />
			<p>
				<a href="/console">{page.t("console.home_title")}</a>
			</p>
			<h1 id="page-title">{page.t("console.keys_of", { tenant: tenant.name })}</h1>
			{props.notice === undefined ? null : (
				<p class="notice" id="notice" role="status">
					{props.notice}
				</p>
			)}
			{props.created === undefined ? null : (
				<section class="action" aria-labelledby="key-heading">
					<h2 id="key-heading">{page.t("console.key_created_heading", { scope: props.created.scope })}</h2>
					<p>
						<code class="secret" id="new-key">
							{props.created.token}
						</code>
					</p>
					<p class="hint">{page.t("console.key_created_hint")}</p>
				</section>
			)}
			<ScrollTable label={page.t("console.keys")}>
				<table class="table" id="keys">
					<thead>
						<tr>
							<th scope="col">{page.t("console.key_id")}</th>
							<th scope="col">{page.t("console.key_scope")}</th>
							<th scope="col">{page.t("console.created")}</th>
							<th scope="col">{page.t("console.last_used")}</th>
							<th scope="col">{page.t("console.state")}</th>
						</tr>
					</thead>
					<tbody>
						{props.keys.map((key) => (
							<tr>
								<td>{key.key_id}</td>
								<td>{key.scope}</td>
								<td>{shownTime(key.created_at)}</td>
								<td>{key.last_used_at === null ? page.t("console.never") : shownTime(key.last_used_at)}</td>
								<td>
									{key.revoked_at !== null ? (
										page.t("console.key_revoked_at", { time: shownTime(key.revoked_at) })
									) : props.canChange ? (
										<PostForm page={page} action={`/${encodeURIComponent(key.key_id)}/revoke`} className="inline-form">
											<button type="submit" class="button-link" aria-label={page.t("console.key_revoke_of", { key: key.key_id })}>
												{page.t("console.key_revoke")}
											</button>
										</PostForm>
									) : (
										page.t("console.key_active")
									)}
								</td>
							</tr>
						))}
					</tbody>
				</table>
			</ScrollTable>
			{props.canChange ? (
				<PostForm page={page} action="/create" id="create-key-form">
					<fieldset class="field">
						<legend>{page.t("console.key_scope")}</legend>
						<div class="check">
							<input type="radio" id="scope-default" name="scope" value="default" checked />
							<label for="scope-default">{page.t("console.key_scope_default")}</label>
						</div>
						<div class="check">
							<input type="radio" id="scope-admin" name="scope" value="admin" />
							<label for="scope-admin">{page.t("console.key_scope_admin")}</label>
						</div>
					</fieldset>
					<p class="hint">{page.t("console.step_up_hint")}</p>
					<button type="submit" class="button" id="create-key">
						{page.t("console.key_create")}
					</button>
				</PostForm>
			) : null}
		</ConsoleLayout>
	);
}

export interface ConsoleEventView {
	id: string;
	type: string;
	user_id: string | null;
	factor_id: string | null;
	created_at: string;
	/** The operator's name or the API key's id that did it, when the event says. */
	by: string | null;
	data: string;
}

export interface ConsoleEventFilters {
	type: string;
	user: string;
	operator: string;
	from: string;
	to: string;
}

export function ConsoleEventsPage(props: {
	page: PageContext;
	operator: ConsoleOperatorView;
	tenant: ConsoleTenantView;
	types: readonly string[];
	filters: ConsoleEventFilters;
	events: readonly ConsoleEventView[];
	older?: string;
}) {
	const { page, tenant, filters } = props;
	const base = `/console/t/${encodeURIComponent(tenant.id)}/events`;
	return (
		<ConsoleLayout page={page} title={page.t("console.events_of", { tenant: tenant.name })}>
			<OperatorBar page={page} operator={props.operator} />
			<p>
				<a href="/console">{page.t("console.home_title")}</a>
			</p>
			<h1 id="page-title">{page.t("console.events_of", { tenant: tenant.name })}</h1>
			<form method="get" action={base} id="filter-form" role="search" class="filters">
				<div class="field">
					<label for="type">{page.t("console.event_type")}</label>
					<select id="type" name="type" class="input">
						<option value="" selected={filters.type === ""}>
							{page.t("console.any")}
						</option>
						{props.types.map((type) => (
							<option value={type} selected={filters.type === type}>
								{type}
							</option>
						))}
					</select>
				</div>
				<div class="field">
					<label for="user">{page.t("console.user_id")}</label>
					<input type="text" id="user" name="user" class="input" value={filters.user} autocomplete="off" spellcheck={false} />
				</div>
				<div class="field">
					<label for="operator">{page.t("console.name_label")}</label>
					<input type="text" id="operator" name="operator" class="input" value={filters.operator} autocomplete="off" spellcheck={false} />
				</div>
				<div class="field">
					<label for="from">{page.t("console.from")}</label>
					<input type="date" id="from" name="from" class="input" value={filters.from} />
				</div>
				<div class="field">
					<label for="to">{page.t("console.to")}</label>
					<input type="date" id="to" name="to" class="input" value={filters.to} />
				</div>
				<button type="submit" class="button" id="filter">
					{page.t("console.search_submit")}
				</button>
			</form>
			{props.events.length === 0 ? (
				<p id="no-events">{page.t("console.no_events")}</p>
			) : (
				<ol class="timeline" id="events">
					{props.events.map((event) => (
						<li>
							<details>
								<summary>
									<span class="event-type">{event.type}</span> <span class="hint">{event.created_at.replace("T", " ").replace("Z", " UTC")}</span>
									{event.user_id === null ? null : <span> {event.user_id}</span>}
									{event.by === null ? null : <span class="hint"> {page.t("console.by", { actor: event.by })}</span>}
								</summary>
								{/* The link sits outside the summary: a link inside it would be a control inside a control (axe nested-interactive). */}
								{event.user_id === null ? null : (
									<p>
										<a href={`/console/t/${encodeURIComponent(tenant.id)}/users/${encodeURIComponent(event.user_id)}`}>{page.t("console.user_title", { user: event.user_id })}</a>
									</p>
								)}
								<pre class="event-data" tabIndex={0}>{event.data}</pre>
							</details>
						</li>
					))}
				</ol>
			)}
			{props.older === undefined ? null : (
				<p>
					<a href={`${base}?${props.older}`} id="older" rel="next">
						{page.t("console.older")}
					</a>
				</p>
			)}
		</ConsoleLayout>
	);
}

/** The settings the console edits (issue 16), as the form shows them: text, so a refused value is shown as typed. */
export interface ConsoleSettingsForm {
	throttle_after: string;
	lock_after: string;
	totp_window: string;
	no_factor_policy: string;
	support_text: string;
	support_url: string;
	display_name: string;
	primary_color: string;
}

export function ConsoleSettingsPage(props: {
	page: PageContext;
	operator: ConsoleOperatorView;
	tenant: ConsoleTenantView;
	form: ConsoleSettingsForm;
	/** Everything else, read-only, as the API shows it. */
	all: string;
	canChange: boolean;
	errors: readonly FieldError[];
	notice?: string;
}) {
	const { page, tenant, form, errors } = props;
	const number = (id: keyof ConsoleSettingsForm, label: string, hint: string) => <TextField page={page} id={id} name={id} label={label} hint={hint} errors={errors} value={form[id]} />;
	return (
		<ConsoleLayout page={page} title={page.t("console.settings_of", { tenant: tenant.name })}>
			<OperatorBar page={page} operator={props.operator} />
			<p>
				<a href="/console">{page.t("console.home_title")}</a>
			</p>
			<ErrorSummary page={page} errors={errors} />
			<h1 id="page-title">{page.t("console.settings_of", { tenant: tenant.name })}</h1>
			{props.notice === undefined ? null : (
				<p class="notice" id="notice" role="status">
					{props.notice}
				</p>
			)}
			{props.canChange ? (
				<PostForm page={page} action="" id="settings-form">
					<p class="hint">{page.t("console.step_up_hint")}</p>
					<h2 class="subheading">{page.t("console.settings_attempts")}</h2>
					{number("throttle_after", page.t("console.throttle_after"), page.t("console.throttle_after_hint"))}
					{number("lock_after", page.t("console.lock_after"), page.t("console.lock_after_hint"))}
					{number("totp_window", page.t("console.totp_window"), page.t("console.totp_window_hint"))}
					<h2 class="subheading">{page.t("console.settings_prompt")}</h2>
					<div class="field">
						<label for="no_factor_policy">{page.t("console.no_factor_policy")}</label>
						<select id="no_factor_policy" name="no_factor_policy" class="input">
							{(["enroll", "deny", "allow"] as const).map((policy) => (
								<option value={policy} selected={form.no_factor_policy === policy}>
									{page.t(`console.policy_${policy}`)}
								</option>
							))}
						</select>
					</div>
					<TextField page={page} id="support_text" name="support_text" label={page.t("console.support_text")} errors={errors} value={form.support_text} />
					<TextField page={page} id="support_url" name="support_url" label={page.t("console.support_url")} errors={errors} value={form.support_url} />
					<TextField page={page} id="display_name" name="display_name" label={page.t("console.display_name")} errors={errors} value={form.display_name} />
					<TextField page={page} id="primary_color" name="primary_color" label={page.t("console.primary_color")} hint="#1d4ed8" errors={errors} value={form.primary_color} />
					<button type="submit" class="button" id="save-settings">
						{page.t("console.save")}
					</button>
				</PostForm>
			) : null}
			<h2 class="subheading">{page.t("console.settings_all")}</h2>
			<pre class="event-data" id="all-settings" tabIndex={0}>
				{props.all}
			</pre>
		</ConsoleLayout>
	);
}

export function ConsoleStepUpPage({ page, operator, next }: { page: PageContext; operator: ConsoleOperatorView; next: string }) {
	return (
		<ConsoleLayout page={page} title={page.t("console.step_up_title")}>
			<OperatorBar page={page} operator={operator} />
			<h1 id="page-title">{page.t("console.step_up_title")}</h1>
			<p class="lead">{page.t("console.step_up_lead")}</p>
			<PostForm page={page} action="/step-up" id="step-up-form">
				<input type="hidden" name="next" value={next} />
				<button type="submit" class="button" id="step-up">
					{page.t("console.sign_in_submit")}
				</button>
			</PostForm>
		</ConsoleLayout>
	);
}

export function ConsoleRefusedPage({ page, title, body }: { page: PageContext; title: string; body: string }) {
	return (
		<ConsoleLayout page={page} title={title}>
			<h1 id="page-title">{title}</h1>
			<p class="lead" id="refused">
				{body}
			</p>
			<p>
				<a href="/console">{page.t("console.home_title")}</a>
			</p>
		</ConsoleLayout>
	);
}

/**
 * The enrollment page's module: moves the token from the URL fragment (which no server or log received) into the
 * form, and removes it from the address bar and history, so it is not left where the next person looks.
 */
export const CONSOLE_ENROLL_SCRIPT = `const match = /^#token=([0-9a-hjkmnp-tv-z]{52})$/.exec(location.hash);
if (match) {
	const field = document.getElementById("token");
	if (field) field.value = match[1];
	history.replaceState(null, "", location.pathname);
}
`;
