// Package plot draws the PNG charts weaksup writes next to its metrics:
// line charts (training loss, learning rate, evaluation curves; with a
// log-scaled x axis for data-scale experiments), grouped bar charts
// (accuracy per task or per noise level) and confusion-matrix heat maps.
// It wraps gonum.org/v1/plot with defaults that read well at 800×500
// pixels.
//
// Charts are plain values: fill in a LineChart, BarChart or
// ConfusionMatrix and call PNG for the encoded image or Save to write it
// atomically (temporary file, fsync, rename). Points that cannot be drawn —
// NaN or infinite values, and values ≤ 0 on a log axis — are left out
// rather than failing the chart; a chart with nothing to draw still renders
// its axes and title. A legend never covers data: it takes the first
// corner (LineChart.LegendBottom and LegendLeft say which to try first),
// then edge middle, whose box clears every drawn line, marker and bar, and
// otherwise sits outside the data area, right of the plot (legend.go).
// Everything here is safe for concurrent use: no state is shared between
// charts.
package plot
