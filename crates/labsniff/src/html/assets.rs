//! The page's inline style and script (no file, font or script from anywhere else:
//! the page works from file:// with the network off).

/// The style of a standalone ladder SVG (`--svg`): the page's ladder rules inline.
pub const LADDER_INLINE_STYLE: &str = "font: 11px sans-serif; background: #fff";

/// The page's CSS.
pub const CSS: &str = r#"
body{font:14px/1.45 system-ui,sans-serif;margin:0 0 0 0;color:#1d1d1f;background:#fafafa}
header,section.conv,nav{margin:0 16px 16px 16px;padding:8px 16px;background:#fff;border:1px solid #ddd;border-radius:6px}
h1{font-size:20px;margin:8px 0}h2{font-size:17px;margin:8px 0}h3{font-size:15px;margin:12px 0 4px}
.warn{background:#fff4e5;border-left:4px solid #e08a00;padding:6px 10px;margin:6px 0}
table.convs{border-collapse:collapse;font-size:13px}table.convs th,table.convs td{border:1px solid #ddd;padding:2px 6px;text-align:left}
table.convs th{cursor:pointer;background:#f0f0f0;user-select:none}table.convs th[data-dir=asc]::after{content:" ▲"}table.convs th[data-dir=desc]::after{content:" ▼"}
td.num{text-align:right}
table.grades td{vertical-align:top;font-size:12px;max-width:260px}td.pass b,td.pass{color:#1a7f37}td.fail b,td.fail{color:#b00}
code.filter{background:#f3f3f3;padding:1px 4px;border-radius:3px;font-size:12px}
button{font-size:12px;margin-left:4px;cursor:pointer}
.ladder-wrap{max-height:75vh;overflow:auto;border:1px solid #eee}
svg{font:11px sans-serif}
svg.ladder text.head{font-weight:600;font-size:12px}svg.ladder text.addr{font-weight:400;fill:#555}
svg.ladder line.life{stroke:#999;stroke-width:1.5;stroke-dasharray:4 3}
svg.ladder g.f line{stroke:#333;stroke-width:1.4}svg.ladder g.f polygon{fill:#333}
svg.ladder g.f text.t,svg.ladder g.f text.n{fill:#777;font-size:10px}
svg.ladder g.f text.l{fill:#222;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
svg.ladder rect.hit{fill:transparent;pointer-events:all;cursor:pointer}
svg.ladder g.f:hover rect.hit{fill:#f2f6ff}svg.ladder g.f.sel rect.hit{fill:#dde8ff}
svg.ladder g.syn line{stroke:#2a7a2a}svg.ladder g.syn polygon{fill:#2a7a2a}
svg.ladder g.fin line{stroke:#6a3d9a}svg.ladder g.fin polygon{fill:#6a3d9a}
svg.ladder g.rst line{stroke:#b00;stroke-width:2.2}svg.ladder g.rst polygon{fill:#b00}
svg.ladder g.data line{stroke-width:2.2}
svg.ladder g.ack line{stroke:#999;stroke-dasharray:3 2}svg.ladder g.ack polygon{fill:#999}svg.ladder g.ack text.l{fill:#888}
svg.ladder circle.arr{fill:#333}svg.ladder g.lost line{stroke:#d62728;stroke-dasharray:6 3;stroke-width:2}svg.ladder path.cross{stroke:#d62728;stroke-width:2.5}svg.ladder g.lost text.l{fill:#d62728;font-weight:600}
svg.ladder g.gap text{fill:#a60;font-style:italic}
svg.ladder g.msg path{fill:none;stroke:#0a6;stroke-width:2}svg.ladder g.msg text{fill:#075;font-size:10px}
svg.ladder g[class*=" k-"] text.l{font-weight:600}
svg.ladder g.k-retransmission line,svg.ladder g.k-fast_retransmission line,svg.ladder g.k-spurious_retransmission line{stroke:#d62728}
svg.ladder g.k-retransmission polygon,svg.ladder g.k-fast_retransmission polygon,svg.ladder g.k-spurious_retransmission polygon{fill:#d62728}
svg.ladder g.k-out_of_order line{stroke:#1f77b4}svg.ladder g.k-out_of_order polygon{fill:#1f77b4}
svg.ladder g.k-lost_segment line,svg.ladder g.k-ack_lost_segment line{stroke:#ff7f0e}svg.ladder g.k-lost_segment polygon,svg.ladder g.k-ack_lost_segment polygon{fill:#ff7f0e}
svg.ladder g.k-duplicate_ack line{stroke:#bcbd22;stroke-dasharray:none}svg.ladder g.k-duplicate_ack polygon{fill:#bcbd22}
svg.ladder g.k-zero_window line,svg.ladder g.k-zero_window_probe line,svg.ladder g.k-zero_window_probe_ack line,svg.ladder g.k-window_full line{stroke:#9467bd}
svg.ladder g.k-window_update line{stroke:#17becf}svg.ladder g.k-keep_alive line,svg.ladder g.k-keep_alive_ack line{stroke:#8c564b}
.legend span{display:inline-block;margin-right:10px;font-size:12px}.legend i{display:inline-block;width:18px;height:3px;vertical-align:middle;margin-right:4px}
svg.graph{border:1px solid #eee;background:#fff;cursor:grab;display:block;margin:6px 0}
svg.graph g.axis line{stroke:#444}svg.graph g.axis text{fill:#444;font-size:10px}
svg.graph line,svg.graph path{vector-effect:non-scaling-stroke}
svg.graph line.seg{stroke:#222;stroke-width:2}svg.graph line.seg.rx{stroke:#d62728}svg.graph line.seg.ooo{stroke:#1f77b4}
svg.graph circle.mark.rx{fill:none;stroke:#d62728}svg.graph circle.mark.ooo{fill:none;stroke:#1f77b4}
svg.graph path.ackline{fill:none;stroke:#2ca02c;stroke-width:1.4}svg.graph path.winline{fill:none;stroke:#e6b800;stroke-width:1.2}
svg.graph line.irtt{stroke:#777;stroke-dasharray:5 4}
svg.graph line.srtt{stroke:#2a7;stroke-width:1.5}
svg.graph line.rto{stroke:#c62;stroke-dasharray:2 3}
svg.graph g.series.c2s circle{fill:#1f77b4}svg.graph g.series.s2c circle{fill:#ff7f0e}
svg.graph [data-f]{cursor:pointer}
ol.findings{padding-left:22px}ol.findings li{margin:3px 0}ol.findings li.hl{background:#fff8c5}
span.what{display:inline-block;min-width:84px;font-size:11px;color:#666;text-transform:uppercase}
span.frames{color:#555;font-size:12px;margin-left:4px}
pre.report{white-space:pre-wrap;font-size:12px;background:#f7f7f7;padding:8px}
#details{position:fixed;right:12px;bottom:12px;width:420px;max-height:60vh;overflow:auto;background:#fff;border:1px solid #888;border-radius:6px;box-shadow:0 2px 10px rgba(0,0,0,.2);padding:8px 12px;font-size:13px}
#details table td{padding:1px 6px;vertical-align:top}#details table td:first-child{color:#555}
"#;

/// The page's script: sortable table, frame details, ACK toggle, links into the
/// ladder, copy buttons, zoom and pan of the graphs. Plain ES5-style DOM code, no
/// library; everything it writes goes through textContent (never innerHTML).
pub const JS: &str = r#"
(function () {
  'use strict';
  function each(list, f) { Array.prototype.forEach.call(list, f); }
  each(document.querySelectorAll('table.sortable'), function (table) {
    each(table.tHead.rows[0].cells, function (th, col) {
      th.addEventListener('click', function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var asc = th.getAttribute('data-dir') !== 'asc';
        each(table.tHead.rows[0].cells, function (h) { h.removeAttribute('data-dir'); });
        th.setAttribute('data-dir', asc ? 'asc' : 'desc');
        rows.sort(function (a, b) {
          var x = a.cells[col].getAttribute('data-v'), y = b.cells[col].getAttribute('data-v');
          var nx = parseFloat(x), ny = parseFloat(y);
          var r = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y));
          return asc ? r : -r;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  var panel = document.getElementById('details');
  function row(table, name, value) {
    var tr = table.insertRow(); tr.insertCell().textContent = name; tr.insertCell().textContent = value;
  }
  function pair(v, what) {
    if (!v) { return ''; }
    var p = v.split(' ');
    return (p[0] === '-' ? '(no relative number)' : p[0]) + ' relative, ' + p[1] + ' raw';
  }
  function show(g) {
    each(document.querySelectorAll('svg.ladder g.f.sel'), function (e) { e.classList.remove('sel'); });
    each(document.querySelectorAll('li.finding.hl'), function (e) { e.classList.remove('hl'); });
    g.classList.add('sel');
    var sec = g.closest('section');
    var f = g.getAttribute('data-frame') || '';
    while (panel.firstChild) { panel.removeChild(panel.firstChild); }
    var h = document.createElement('h3');
    h.textContent = (f ? 'Frame ' + f : 'Frame ' + g.getAttribute('data-peer-frame') + ' of the other capture') +
      ' (conversation ' + sec.getAttribute('data-conv') + ')' + (g.getAttribute('data-lost') ? ', lost between the capture points' : '');
    panel.appendChild(h);
    var close = document.createElement('button'); close.textContent = 'close';
    close.addEventListener('click', function () { panel.hidden = true; });
    h.appendChild(close);
    var t = document.createElement('table'); t.className = 'fields';
    var d = function (k) { return g.getAttribute('data-' + k) || ''; };
    row(t, 'time', d('t') + ' s after the conversation\'s first frame');
    row(t, 'direction', g.classList.contains('c2s') ? 'client → server' : 'server → client');
    row(t, 'TCP flags', d('tcp'));
    row(t, 'seq', pair(d('seq')));
    row(t, 'ack', d('ack') ? pair(d('ack')) : '(no ACK flag)');
    row(t, 'window', d('win') + ' (as sent, unscaled)');
    row(t, 'payload', d('len') + ' bytes');
    row(t, 'ack_rtt', d('rtt') ? (d('rtt') + ' s (acknowledges frame ' + d('acks') + ')') : '');
    row(t, 'analysis flags', d('flags'));
    panel.appendChild(t);
    var cites = sec.querySelectorAll('li.finding');
    var ex = document.createElement('ol'); ex.className = 'cited';
    each(cites, function (li) {
      var pf = g.getAttribute('data-peer-frame'), lp = li.getAttribute('data-peer-cites');
      var hit = f ? (' ' + li.getAttribute('data-cites') + ' ').indexOf(' ' + f + ' ') >= 0
                    : (pf && lp && (' ' + lp + ' ').indexOf(' ' + pf + ' ') >= 0);
      if (hit) {
        li.classList.add('hl');
        var item = document.createElement('li'); item.textContent = li.textContent.replace(/copy$/, '');
        ex.appendChild(item);
      }
    });
    var eh = document.createElement('h3');
    eh.textContent = ex.childNodes.length ? 'Explanations citing this frame' : 'No explanation cites this frame';
    panel.appendChild(eh); panel.appendChild(ex);
    panel.hidden = false;
  }
  function goto(sec, f) {
    var g = sec.querySelector('svg.ladder g.f[data-frame="' + f + '"]');
    if (!g) {
      while (panel.firstChild) { panel.removeChild(panel.firstChild); }
      panel.textContent = 'Frame ' + f + ' is not drawn in this ladder (left out, or not a TCP segment).';
      panel.hidden = false; return;
    }
    if (g.classList.contains('pack') && sec.classList.contains('hide-acks')) { toggle(sec); }
    g.scrollIntoView({block: 'center'});
    show(g);
  }
  function relayout(sec) {
    var svg = sec.querySelector('svg.ladder');
    if (!svg) { return; }
    var top = parseFloat(svg.getAttribute('data-top')), step = parseFloat(svg.getAttribute('data-row'));
    var hide = sec.classList.contains('hide-acks');
    var k = 0, ys = {};
    each(svg.querySelectorAll('g.f, g.gap'), function (r) {
      if (hide && r.classList.contains('pack')) { r.style.display = 'none'; return; }
      r.style.display = '';
      var y = top + k * step; k += 1;
      r.setAttribute('transform', 'translate(0,' + y + ')');
      if (r.hasAttribute('data-frame')) { ys[r.getAttribute('data-frame')] = y; }
    });
    each(svg.querySelectorAll('g.msg'), function (m) {
      var a = ys[m.getAttribute('data-first')], b = ys[m.getAttribute('data-last')];
      if (a === undefined || b === undefined) { return; }
      var x = m.getAttribute('data-x'), tip = m.getAttribute('data-tip');
      m.querySelector('path').setAttribute('d', 'M' + tip + ' ' + (a - 6) + ' H' + x + ' V' + (b + 6) + ' H' + tip);
      m.querySelector('text').setAttribute('y', (a + b) / 2 + 4);
    });
    var height = top + (k + 1) * step;
    svg.setAttribute('height', height);
    svg.setAttribute('viewBox', '0 0 ' + svg.getAttribute('width') + ' ' + height);
    each(svg.querySelectorAll('line.life'), function (l) { l.setAttribute('y2', height); });
  }
  function toggle(sec) {
    sec.classList.toggle('hide-acks');
    var b = sec.querySelector('button.ack-toggle');
    if (b) { b.textContent = sec.classList.contains('hide-acks') ? 'show plain ACKs' : 'hide plain ACKs'; }
    relayout(sec);
  }
  function copy(btn) {
    var code = btn.previousElementSibling;
    var text = code ? code.textContent : '';
    var done = function () { btn.textContent = 'copied'; };
    var fallback = function () {
      try {
        var r = document.createRange(); r.selectNodeContents(code);
        var s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
        document.execCommand('copy'); done();
      } catch (e) { btn.textContent = 'select and copy'; }
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else { fallback(); }
  }
  document.addEventListener('click', function (ev) {
    var t = ev.target;
    if (!(t instanceof Element)) { return; }
    var a = t.closest('a.fr');
    if (a) { ev.preventDefault(); goto(a.closest('section'), a.getAttribute('data-goto')); return; }
    if (t.closest('button.copy')) { copy(t.closest('button.copy')); return; }
    if (t.closest('button.ack-toggle')) { toggle(t.closest('section')); return; }
    var g = t.closest('svg.ladder g.f');
    if (g) { show(g); return; }
    var p = t.closest('svg.graph [data-f]');
    if (p) { goto(p.closest('section'), p.getAttribute('data-f')); }
  });
  each(document.querySelectorAll('svg.graph'), function (svg) {
    var plot = svg.querySelector('g.plot');
    var z = {s: 1, x: 0, y: 0}, drag = null;
    function apply() { plot.setAttribute('transform', 'translate(' + z.x + ',' + z.y + ') scale(' + z.s + ')'); }
    function at(ev) {
      var m = svg.getScreenCTM();
      if (!m) { return {x: 0, y: 0}; }
      var p = svg.createSVGPoint(); p.x = ev.clientX; p.y = ev.clientY;
      return p.matrixTransform(m.inverse());
    }
    svg.addEventListener('wheel', function (ev) {
      ev.preventDefault();
      var f = ev.deltaY < 0 ? 1.25 : 0.8, p = at(ev);
      var s = Math.min(200, Math.max(1, z.s * f)); f = s / z.s;
      z.x = p.x - (p.x - z.x) * f; z.y = p.y - (p.y - z.y) * f; z.s = s; apply();
    }, {passive: false});
    svg.addEventListener('mousedown', function (ev) { drag = {p: at(ev), x: z.x, y: z.y}; });
    window.addEventListener('mouseup', function () { drag = null; });
    svg.addEventListener('mousemove', function (ev) {
      if (!drag) { return; }
      var p = at(ev); z.x = drag.x + p.x - drag.p.x; z.y = drag.y + p.y - drag.p.y; apply();
    });
    svg.addEventListener('dblclick', function () { z = {s: 1, x: 0, y: 0}; apply(); });
  });
  if (panel) { panel.hidden = true; }
}());
"#;
