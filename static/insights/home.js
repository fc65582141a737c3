// The home page's chart: the explorer's answer embedded by the page, drawn by PortalCharts.
(function () {
  "use strict";
  var data = document.getElementById("home-chart");
  var canvas = document.getElementById("home-chart-canvas");
  if (!data || !canvas || !window.PortalCharts) {
    return;
  }
  window.PortalCharts.stackedCost(canvas, JSON.parse(data.textContent));
})();
