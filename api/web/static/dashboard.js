// The dashboard's charts (uPlot): calls per day, and the pass rate per day of the busiest branches and agents.
// The numbers come from the page itself (a JSON script element), so the charts and the tables cannot disagree.
(function () {
  "use strict";
  const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

  function seconds(day) {
    return Date.parse(day + "T00:00:00Z") / 1000;
  }

  const DAY = 86400;

  function draw(element, days, series, joined) {
    if (!days.length) {
      element.textContent = "—";
      return;
    }
    const options = {
      width: element.clientWidth || 380,
      height: 220,
      legend: { live: false },
      // One day alone would stretch the time axis over years: keep a few days either side.
      scales: { x: { time: true, range: function (u, min, max) { return [min - 2 * DAY, max + 2 * DAY]; } } },
      series: [{}].concat(series.map(function (s, n) {
        return { label: s.label, stroke: COLOURS[n % COLOURS.length], width: 2, spanGaps: joined, points: { size: 6 } };
      })),
    };
    new uPlot(options, [days.map(seconds)].concat(series.map(function (s) { return s.values; })), element);
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
    // A branch or agent without calls on a day has no pass rate that day: the line joins the days it has.
    draw(document.getElementById("chart-per-branch"), data.per_branch.days, passRates(data.per_branch.series), true);
    draw(document.getElementById("chart-per-agent"), data.per_agent.days, passRates(data.per_agent.series), true);
    window.callqaChartsDrawn = true;
  });
})();
