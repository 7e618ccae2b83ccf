// The dashboard's charts (uPlot): calls per day, and the pass rate per day of the busiest branches and agents.
// The numbers come from the page itself (a JSON script element), so the charts and the tables cannot disagree.
(function () {
  "use strict";
  const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

  function seconds(day) {
    return Date.parse(day + "T00:00:00Z") / 1000;
  }

  const DAY = 86400;

  function draw(element, days, series, percent) {
    if (!days.length) {
      element.textContent = "—";
      return;
    }
    const xs = days.map(seconds);
    const options = {
      width: element.clientWidth || 380,
      height: 220,
      legend: { live: false },
      scales: {
        // A fixed range a few days wider than the data: uPlot stretches one day alone over years.
        x: { time: true, auto: false, range: [xs[0] - 2 * DAY, xs[xs.length - 1] + 2 * DAY] },
        y: percent ? { auto: false, range: [0, 100] } : { range: function (u, min, max) { return [0, Math.max(max, 1) * 1.1]; } },
      },
      series: [{}].concat(series.map(function (s, n) {
        // A pass rate is missing on a day without calls: its line joins the days that have one.
        return { label: s.label, stroke: COLOURS[n % COLOURS.length], width: 2, spanGaps: percent, points: { size: 6 } };
      })),
    };
    new uPlot(options, [xs].concat(series.map(function (s) { return s.values; })), element);
  }

  function passRates(series) {
    return Object.keys(series).map(function (key) {
      const s = series[key];
      return {
        label: key,
        values: s.scored.map(function (n, i) { return n ? Math.round(1000 * (n - s.failed[i]) / n) / 10 : null; }),
      };
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const data = JSON.parse(document.getElementById("chart-data").textContent);
    const labels = JSON.parse(document.getElementById("chart-labels").textContent);
    const perDay = data.per_day;
    draw(document.getElementById("chart-per-day"), perDay.map(function (d) { return d.day; }), [
      { label: labels.scored, values: perDay.map(function (d) { return d.scored; }) },
      { label: labels.failed, values: perDay.map(function (d) { return d.failed; }) },
      { label: labels.needs_review, values: perDay.map(function (d) { return d.needs_review; }) },
    ], false);
    draw(document.getElementById("chart-per-branch"), data.per_branch.days, passRates(data.per_branch.series), true);
    draw(document.getElementById("chart-per-agent"), data.per_agent.days, passRates(data.per_agent.series), true);
    window.callqaChartsDrawn = true;
  });
})();
