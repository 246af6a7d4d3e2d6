#include "report/page.h"

#include "report/html.h"

namespace gb::report {

std::string page_head(const std::string& title, const std::string& chartjs_source) {
  return std::string(R"GB(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>)GB") + escape(title) + R"GB(</title>
<script>
// Errors are collected from the first line on, for the self-test (report.html#selftest).
window.__gbErrors = [];
window.addEventListener('error', function (e) { window.__gbErrors.push(String(e.message || e)); });
(function () { var ce = console.error; console.error = function () {
  window.__gbErrors.push(Array.prototype.join.call(arguments, ' ')); ce.apply(console, arguments); }; })();
</script>
<style>
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 0; color: #1b1f24; background: #fafbfc; }
header { background: #1f2d3d; color: #fff; padding: 14px 24px; }
header h1 { margin: 0; font-size: 22px; } header p { margin: 4px 0 0; font-size: 13px; color: #c9d4df; }
header code { color: #fff; }
main { padding: 8px 24px 40px; max-width: 1400px; }
section { background: #fff; border: 1px solid #dde3ea; border-radius: 6px; padding: 8px 18px 14px; margin: 16px 0; }
h2 { font-size: 18px; margin: 10px 0 2px; } .path { color: #6a737d; font-size: 12px; margin: 0 0 8px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; } .chart { width: 420px; height: 260px; }
table { border-collapse: collapse; margin: 10px 0; font-size: 12px; }
caption { text-align: left; font-size: 13px; color: #444; padding: 4px 0; }
th, td { border: 1px solid #dde3ea; padding: 3px 7px; text-align: right; }
th { background: #eef2f6; cursor: pointer; user-select: none; } th.asc::after { content: " \25B2"; }
th.desc::after { content: " \25BC"; } td:first-child, th:first-child { text-align: left; }
details { margin: 8px 0; } summary { cursor: pointer; color: #0b5cad; }
.notes { font-size: 12px; color: #444; } .note { color: #6a737d; font-size: 12px; }
.viewer { display: flex; flex-wrap: wrap; gap: 16px; margin: 12px 0; padding: 8px; border-top: 1px solid #eef2f6; }
.stage { position: relative; width: 384px; height: 384px; background: #000; }
.stage img { position: absolute; left: 0; top: 0; width: 384px; height: 384px; image-rendering: pixelated; }
.controls { font-size: 13px; min-width: 300px; } .controls label { display: block; margin: 6px 0; }
.controls input[type=range] { width: 220px; vertical-align: middle; }
.scores td:nth-child(2), .scores td:nth-child(3), .scores td:nth-child(4) { min-width: 60px; }
.legend span { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 10px; vertical-align: middle; }
.howto dt { font-weight: bold; margin-top: 6px; } .howto dd { margin: 2px 0 0 16px; font-size: 13px; }
</style>
<script>
)GB" + chartjs_source + R"GB(
</script>
<script>window.GB = { charts: [], viewers: [], chartObjects: [] };</script>
</head><body>
)GB";
}

std::string page_script() {
  return R"GB(<script>
(function () {
  'use strict';
  // ---- charts (Chart.js, no animation so they are drawn once the page has loaded)
  var palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728'];
  GB.charts.forEach(function (c) {
    var el = document.getElementById(c.id);
    if (!el || typeof Chart === 'undefined') return;
    var ds = c.series.map(function (s, i) {
      return { label: s.label, data: s.y.map(function (y, k) { return { x: c.x[k], y: y }; }),
               borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length],
               pointRadius: c.x.length > 60 ? 0 : 2, borderWidth: 1.5, spanGaps: true };
    });
    var yopts = { beginAtZero: false };
    if (c.ymin !== undefined) { yopts.min = c.ymin; yopts.max = c.ymax; }
    GB.chartObjects.push(new Chart(el, { type: 'line', data: { datasets: ds },
      options: { animation: false, responsive: true, maintainAspectRatio: false, parsing: false,
        plugins: { title: { display: true, text: c.title } },
        scales: { x: { type: 'linear', title: { display: true, text: 'step' } }, y: yopts } } }));
  });

  // ---- sortable tables: click a header; numbers sort as numbers
  document.querySelectorAll('table.sortable').forEach(function (t) {
    t.querySelectorAll('th').forEach(function (th, col) {
      th.addEventListener('click', function () {
        var asc = !th.classList.contains('asc');
        t.querySelectorAll('th').forEach(function (h) { h.classList.remove('asc', 'desc'); });
        th.classList.add(asc ? 'asc' : 'desc');
        var body = t.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col].textContent, y = b.cells[col].textContent;
          var nx = parseFloat(x), ny = parseFloat(y);
          var r = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
          return asc ? r : -r;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });

  // ---- slice viewers: CT (with outlines) under the selected map, opacity and slice sliders
  var metricNames = ['pointing_game', 'mass_in_mask', 'rank_accuracy', 'roc_auc', 'iou_otsu', 'dice_otsu',
                     'iou_topk', 'dice_topk', 'gini'];
  function fmt(v) { return (v === null || v === undefined || isNaN(v)) ? '-' : Number(v).toFixed(3); }
  GB.viewers.forEach(function (v) {
    var root = document.getElementById(v.id);
    if (!root) return;
    var methods = v.methods.filter(function (m) { return m.indexOf('chance') !== 0; });
    var st = { k: v.slices[0], m: methods[0], a: 0.55 };
    root.innerHTML =
      '<div class="stage"><img class="ct" alt="CT slice"><img class="map" alt="map"></div>' +
      '<div class="controls"><b>' + v.name + '</b>' +
      '<div class="legend">truth: <span style="background:#00c800"></span>liver<span style="background:#ff2828">' +
      '</span>tumour &nbsp; prediction: <span style="background:#50a0ff"></span>liver<span style="background:#ffe600">' +
      '</span>tumour</div>' +
      '<label>slice <input type="range" class="slice" min="0" max="' + (v.slices.length - 1) + '" value="0"> ' +
      '<span class="slicev"></span></label>' +
      '<label>map opacity <input type="range" class="alpha" min="0" max="100" value="55"> <span class="alphav"></span></label>' +
      '<div class="methods"></div><table class="scores"></table></div>';
    var ct = root.querySelector('img.ct'), map = root.querySelector('img.map');
    var mdiv = root.querySelector('.methods');
    methods.forEach(function (m, i) {
      var id = v.id + '_m' + i;
      mdiv.insertAdjacentHTML('beforeend', '<label style="display:inline-block;margin-right:10px"><input type="radio" name="' +
        v.id + '" id="' + id + '"' + (i === 0 ? ' checked' : '') + '> ' + m + '</label>');
      document.getElementById(id).addEventListener('change', function () { st.m = m; draw(); });
    });
    function draw() {
      ct.src = v.ct[st.k];
      var L = v.layer[st.k] || {};
      if (L[st.m]) { map.src = L[st.m]; map.style.display = ''; } else { map.style.display = 'none'; }
      map.style.opacity = st.a;
      root.querySelector('.slicev').textContent = st.k + ' (' + (v.slices.indexOf(st.k) + 1) + ' of ' + v.slices.length + ')';
      root.querySelector('.alphav').textContent = Math.round(st.a * 100) + '%';
      var M = v.metrics[st.k] || {}, r = M[st.m] || {}, cr = M['chance-random'] || {}, ce = M['chance-edge'] || {};
      var h = '<tr><th>metric</th><th>' + st.m + '</th><th>random map</th><th>edge map</th></tr>';
      metricNames.forEach(function (n) {
        h += '<tr><td>' + n + '</td><td>' + fmt(r[n]) + '</td><td>' + fmt(cr[n]) + '</td><td>' + fmt(ce[n]) + '</td></tr>';
      });
      if (r.delta_rel !== undefined && r.delta_rel !== null && r.delta_rel >= 0)
        h += '<tr><td>IG completeness error</td><td>' + (100 * r.delta_rel).toFixed(2) + '%</td><td></td><td></td></tr>';
      if (r.T !== undefined) h += '<tr><td>target T</td><td>' + fmt(r.T) + '</td><td></td><td></td></tr>';
      root.querySelector('.scores').innerHTML = h;
    }
    root.querySelector('input.slice').addEventListener('input', function (e) { st.k = v.slices[+e.target.value]; draw(); });
    root.querySelector('input.alpha').addEventListener('input', function (e) { st.a = e.target.value / 100; draw(); });
    draw();
  });

  // ---- self-test (report.html#selftest): every embedded image decodes, every chart drew, no errors
  function uris() {
    var u = [];
    document.querySelectorAll('img').forEach(function (i) { if (i.src) u.push(i.src); });
    GB.viewers.forEach(function (v) {
      Object.keys(v.ct).forEach(function (k) { u.push(v.ct[k]); });
      Object.keys(v.layer).forEach(function (k) { Object.keys(v.layer[k]).forEach(function (m) { u.push(v.layer[k][m]); }); });
    });
    return u;
  }
  function chartDrew(ch) {
    var meta = ch.getDatasetMeta(0);
    if (!meta || !meta.data || meta.data.length === 0) return false;
    var cv = ch.canvas, px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
    for (var i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
    return false;
  }
  // Images are checked with onload / onerror (decode() may never settle in a headless dump); the
  // verdict is written once every image has answered.
  function selftest() {
    var res = { errors: [], images: 0, broken: 0, charts: GB.chartObjects.length, chartsExpected: GB.charts.length,
                chartsDrawn: 0, viewers: GB.viewers.length, done: false };
    var out = document.getElementById('gb-selftest');
    GB.chartObjects.forEach(function (ch) { if (chartDrew(ch)) res.chartsDrawn++; });
    var list = uris(), pending = list.length;
    function finish() {
      res.errors = window.__gbErrors.slice();
      res.done = pending === 0;
      out.textContent = JSON.stringify(res);
      out.hidden = false;
      if (res.done) document.title = 'selftest done';
    }
    finish();
    list.forEach(function (u) {
      var im = new Image();
      im.onload = function () { if (im.naturalWidth > 0) res.images++; else res.broken++; --pending; finish(); };
      im.onerror = function () { res.broken++; --pending; finish(); };
      im.src = u;
    });
  }
  if (location.hash === '#selftest') selftest();
})();
</script>
)GB";
}

std::string how_to_read() {
  return R"GB(<section class="howto"><h2>How to read this</h2><dl>
<dt>Training curves</dt><dd>Loss should fall and flatten; the smoothed line is easier to read than the raw one. Validation
Dice is measured on cases held out of training (split by case, never by slice): it is the honest figure. A validation
curve that falls while the loss keeps falling means the model is learning the training cases by heart.</dd>
<dt>Dice, IoU</dt><dd>Overlap of the predicted and true region: 1 is perfect, 0 no overlap. Dice = 2|P&cap;G|/(|P|+|G|);
IoU = |P&cap;G|/|P&cup;G| is always lower. Per-case mean treats every patient alike; global Dice pools every voxel of every
case (large livers weigh more) and is what LiTS ranks by. When both masks are empty Dice is 1, when one is empty it is 0:
the tables count how often that convention decided a case.</dd>
<dt>Sensitivity, specificity, precision, VOE, RVD</dt><dd>Sensitivity: share of the true region found. Specificity: share
of the background left alone (near 1 in CT, where background dominates). Precision: share of the prediction that is
right. VOE = 1 &minus; IoU. RVD: relative volume difference, positive when the model over-segments.</dd>
<dt>ASSD, MSD, HD95</dt><dd>Distances between the surfaces of prediction and truth in millimetres: the average, the
worst, and the 95th percentile (robust to a single stray voxel). Lower is better; undefined when a mask is empty.</dd>
<dt>Lesion detection</dt><dd>Each connected tumour counts as found when some predicted component overlaps it with
IoU &gt; 0.5. Recall: share of tumours found; precision: share of predicted tumours that are real.</dd>
<dt>Intervals and p-values</dt><dd>95% bootstrap intervals of per-case means: with few cases they are wide, and two
models whose intervals overlap may not differ. The Wilcoxon signed-rank p-value tests whether one model beats another on
the same cases.</dd>
<dt>Grad-CAM family (gradcam, hirescam, gradcam++, layercam)</dt><dd>Where, in one layer's feature maps, the evidence for
the target lies (the target is the sum of the tumour logits over the explained region). Coarse by construction: the map
has the resolution of that layer, upsampled.</dd>
<dt>Integrated Gradients (ig)</dt><dd>How much each pixel contributes to the target, relative to a baseline image
(blurred by default). Its completeness error says how much of T(x) &minus; T(baseline) the map accounts for: above a few
percent the map is not trustworthy; use more steps or the adaptive rule.</dd>
<dt>gradient, gradxinput, smoothgrad, vargrad, occlusion</dt><dd>Plain sensitivity of the target to each pixel, the same
times the pixel, averaged (or its variance) over noisy copies, and the drop of the target when a patch is covered.</dd>
<dt>Saliency metrics</dt><dd>How well a map agrees with the true tumour. pointing_game: 1 when the map's maximum lies in
the tumour. mass_in_mask: share of the map's total inside the tumour. rank_accuracy: share of the top-|tumour| pixels
inside it. roc_auc: 0.5 is chance, 1 perfect. iou/dice at Otsu and top-k: overlap of the thresholded map. gini:
sparseness (1 = all mass on one pixel). Compare every figure with the random and edge maps beside it: a map that does not
beat them says little about the model.</dd>
<dt>Opacity slider</dt><dd>Blends the map over the CT; the outlines (truth: green liver, red tumour; prediction: blue
liver, yellow tumour) are drawn on the CT.</dd>
</dl></section>
)GB";
}

}  // namespace gb::report
