/**
 * A stacked bar chart drawn on the server as SVG (issue 16's overview): no script, no chart library, nothing from
 * another origin, colours from the stylesheet's classes (so dark mode applies). The SVG is one image with a text
 * alternative that states the totals; each bar's numbers are in its <title> (shown on hover), and every figure is
 * also in a table below it (WCAG 1.1.1: the chart is not the only way to read them).
 */
export interface ChartStack {
	/** The stylesheet class that colours this stack's bars and its legend swatch. */
	className: string;
	label: string;
	values: readonly number[];
}

export function BarChart(props: { id: string; label: string; barLabels: readonly string[]; stacks: readonly ChartStack[]; scaleLabel: (max: number) => string }) {
	const { id, label, barLabels, stacks } = props;
	const bars = barLabels.length;
	const totals = barLabels.map((_, i) => stacks.reduce((sum, stack) => sum + (stack.values[i] ?? 0), 0));
	const max = Math.max(1, ...totals);
	const width = 10;
	const height = 100;
	return (
		<figure class="chart" id={id}>
			<svg class="chart-bars" viewBox={`0 0 ${bars * width} ${height}`} preserveAspectRatio="none" role="img" aria-label={label} focusable="false">
				<line class="chart-axis" x1="0" y1={height} x2={bars * width} y2={height} />
				{barLabels.map((barLabel, i) => {
					if (totals[i] === 0) return null;
					let y = height;
					return (
						<g>
							<title>{`${barLabel}: ${stacks.map((stack) => `${stack.label} ${stack.values[i] ?? 0}`).join(", ")}`}</title>
							{stacks.map((stack) => {
								const value = stack.values[i] ?? 0;
								if (value === 0) return null;
								const h = (value / max) * (height - 2);
								y -= h;
								return <rect class={stack.className} x={i * width + 1} y={y} width={width - 2} height={h} />;
							})}
						</g>
					);
				})}
			</svg>
			<figcaption>
				<span class="chart-range">
					<span>{barLabels[0]}</span>
					<span>{barLabels[bars - 1]}</span>
				</span>
				<span class="chart-max">{props.scaleLabel(max)}</span>
				<ul class="chart-legend">
					{stacks.map((stack) => (
						<li>
							<svg class="chart-swatch" viewBox="0 0 10 10" aria-hidden="true" focusable="false">
								<rect class={stack.className} width="10" height="10" />
							</svg>
							{`${stack.label}: ${stack.values.reduce((sum, value) => sum + value, 0)}`}
						</li>
					))}
				</ul>
			</figcaption>
		</figure>
	);
}
