/* The operations page: the period slider and the run selector choose a frame of the map
   (each element's state, the crews and their routes, the closed roads); the charts of the
   chosen run are shown and their period markers moved. The counts of the frame are written
   to the map's data-* attributes (read by the browser test). */
(function () {
  var holder = document.getElementById("ops-data");
  var svg = document.getElementById("ops-map");
  if (!holder || !svg) { return; }
  var D = JSON.parse(holder.textContent);
  var NS = "http://www.w3.org/2000/svg";
  var slider = document.getElementById("ops-frame");
  var select = document.getElementById("ops-run");
  var label = document.getElementById("ops-frame-label");
  var crews = document.getElementById("ops-crews");
  var shapes = [];
  Array.prototype.forEach.call(svg.querySelectorAll(".el"), function (e) {
    shapes[+e.getAttribute("data-i")] = e;
  });
  var titles = svg.querySelectorAll(".ptitle");
  var roads = svg.querySelectorAll(".road");

  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text) { e.textContent = text; }
    return e;
  }

  function apply() {
    var run = D.runs[select ? select.selectedIndex : 0];
    var k = Math.min(+slider.value, run.frames.length - 1);
    var f = run.frames[k];
    var total = {}, perLayer = D.layers.map(function () { return {}; });
    for (var i = 0; i < D.elayer.length; i++) {
      var c = f.states.charAt(i);
      total[c] = (total[c] || 0) + 1;
      perLayer[D.elayer[i]][c] = (perLayer[D.elayer[i]][c] || 0) + 1;
      if (shapes[i]) { shapes[i].setAttribute("class", "el st-" + c); }
    }
    D.legend.forEach(function (s) { svg.setAttribute("data-n-" + s.name, String(total[s.code] || 0)); });
    svg.setAttribute("data-run", run.id);
    svg.setAttribute("data-frame", String(k));
    Array.prototype.forEach.call(titles, function (t) {
      var n = +t.getAttribute("data-layer"), parts = [];
      D.legend.forEach(function (s) {
        if (s.code !== D.legend[0].code && perLayer[n][s.code]) {
          parts.push(s.count.replace("{n}", String(perLayer[n][s.code])));
        }
      });
      t.textContent = D.layers[n] + (parts.length ? ": " + parts.join(", ") : "");
    });
    Array.prototype.forEach.call(roads, function (r) {
      r.classList.toggle("closed", f.closed.indexOf(r.getAttribute("data-road")) >= 0);
    });
    while (crews.firstChild) { crews.removeChild(crews.firstChild); }
    f.crews.forEach(function (c) {
      if (c.route) {
        crews.appendChild(el("polyline", { "class": "route", points: c.route.map(function (p) { return p.join(","); }).join(" ") }));
      }
      var g = el("g", { "class": "crew" });
      g.appendChild(el("title", {}, c.what));
      g.appendChild(el("circle", { cx: c.x, cy: c.y, r: 6 }));
      g.appendChild(el("text", { x: c.x + 8, y: c.y - 6 }, c.crew));
      crews.appendChild(g);
    });
    svg.setAttribute("data-n-crews", String(f.crews.length));
    label.textContent = f.label;
    Array.prototype.forEach.call(document.querySelectorAll(".ops-run"), function (d) {
      d.style.display = d.getAttribute("data-run") === run.id ? "" : "none";
    });
    Array.prototype.forEach.call(document.querySelectorAll(".pmark"), function (m) {
      var x = +m.getAttribute("data-x0") + k * +m.getAttribute("data-dx");
      m.setAttribute("x1", x.toFixed(1));
      m.setAttribute("x2", x.toFixed(1));
    });
  }

  slider.addEventListener("input", apply);
  if (select) {
    select.addEventListener("change", function () {
      slider.max = String(D.runs[select.selectedIndex].frames.length - 1);
      apply();
    });
  }
  apply();
})();
