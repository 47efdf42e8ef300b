/**
 * The prompt's small module (served at /prompt/assets/prompt.js): niceties over pages that work without it. It
 * shows and wires the copy and print buttons (hidden until then, so no dead button without script) and moves focus
 * to the error summary. No inline script anywhere: the CSP allows only same-origin modules with the page's nonce.
 */
export const PROMPT_SCRIPT = `const summary = document.getElementById("error-summary");
if (summary) summary.focus();
for (const button of document.querySelectorAll("button[data-copy]")) {
	if (!navigator.clipboard) continue;
	button.hidden = false;
	button.addEventListener("click", async () => {
		const source = document.querySelector(button.dataset.copy);
		if (!source) return;
		const text = source.tagName === "OL" ? [...source.querySelectorAll("li")].map((li) => li.textContent.trim()).join("\\n") : source.textContent.replace(/\\s+/g, "");
		const label = button.textContent;
		try {
			await navigator.clipboard.writeText(text);
			button.textContent = button.dataset.copied;
			setTimeout(() => { button.textContent = label; }, 2000);
		} catch {}
	});
}
for (const button of document.querySelectorAll("button[data-print]")) {
	button.hidden = false;
	button.addEventListener("click", () => window.print());
}
`;
