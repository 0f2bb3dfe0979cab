/* riskmap map runtime (part of riskmap, MIT licence).
 *
 * Builds the basin layers, site markers, downstream paths, legend and site
 * search of a riskmap basin map from one embedded data object. Every piece of
 * text that comes from data goes through esc() (HTML) or textContent.
 *
 * Language: riskmap's own texts are written in English as R.t('...') and
 * R.ngettext('...', '...', n); the map's data carry their translations
 * (data.i18n, data.i18nPlural, built by riskmap.map_text.js_catalogue) and the
 * language (data.lang). A message without a translation is shown in English.
 */
(function (root) {
  'use strict';

  var ESC = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'};

  function esc(v) {
    return String(v === null || v === undefined ? '' : v).replace(/[&<>"']/g, function (c) { return ESC[c]; });
  }

  function val(S, name, i) {
    var c = S.cols[name];
    if (!c) { return null; }
    if (c.v) { return c.v[i]; }
    if (c.c) { var k = c.c[i]; return k < 0 ? null : c.k[k]; }
    if (c.s) { var s = c.s[i]; return s === undefined ? null : s; }
    return null;
  }

  function flatLatLngs(layer) {
    var ll = layer.getLatLngs();
    if (ll.length && !L.LineUtil.isFlat(ll)) {
      var out = [];
      ll.forEach(function (part) { out = out.concat(part); });
      return out;
    }
    return ll;
  }

  function iconFor(R, shape, color, hollow) {
    var key = shape + '|' + color + '|' + (hollow ? 1 : 0);
    var ic = R.icons[key];
    if (ic) { return ic; }
    var d = R.data.shapes[shape] || R.data.shapes.circle;
    var svg = '<svg viewBox="0 0 20 20" width="16" height="16" aria-hidden="true"><path d="' + d + '" fill="' +
      (hollow ? '#ffffff' : color) + '" fill-opacity="' + (hollow ? '0.55' : '0.95') + '" stroke="' +
      (hollow ? color : '#222222') + '" stroke-width="' + (hollow ? '2.6' : '1.2') + '"' +
      (hollow ? ' stroke-dasharray="3 2"' : '') + '/></svg>';
    ic = L.divIcon({html: svg, className: 'rm-site' + (hollow ? ' rm-site-approx' : ''),
      iconSize: [16, 16], iconAnchor: [8, 8], popupAnchor: [0, -6], tooltipAnchor: [8, 0]});
    R.icons[key] = ic;
    return ic;
  }

  /* `text` with each {name} replaced by params[name] (as given: the caller escapes for HTML). */
  function fill(text, params) {
    return String(text).replace(/\{([a-z_0-9]+)\}/g, function (all, k) {
      return params && Object.prototype.hasOwnProperty.call(params, k) ? String(params[k]) : all;
    });
  }

  /* A translated template, HTML-escaped, with HTML-safe params filled in. */
  function fillHtml(text, params) {
    return fill(esc(text), params);
  }

  /* CLDR plural category index: Russian one / few / many, English one / other. */
  function pluralIndex(lang, n) {
    if (lang === 'ru') {
      var m10 = n % 10, m100 = n % 100;
      if (m10 === 1 && m100 !== 11) { return 0; }
      return m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14) ? 1 : 2;
    }
    return n === 1 ? 0 : 1;
  }

  /* The translation functions of one map (its language and catalogue). */
  function setLanguage(R) {
    var D = R.data, cat = D.i18n || {}, plural = D.i18nPlural || {}, lang = D.lang || 'en';
    var has = Object.prototype.hasOwnProperty;
    R.lang = lang;
    R.locale = lang === 'en' ? 'en-GB' : lang;
    R.t = function (msg) { return has.call(cat, msg) && cat[msg] ? cat[msg] : msg; };
    R.ngettext = function (one, many, n) {
      var forms = has.call(plural, one) ? plural[one] : null, k = pluralIndex(lang, n);
      if (forms && forms[Math.min(k, forms.length - 1)]) { return forms[Math.min(k, forms.length - 1)]; }
      return n === 1 ? one : many;
    };
  }

  function fmtNum(R, v, digits) {
    if (v === null || v === undefined || v === '' || (typeof v === 'number' && !isFinite(v))) { return null; }
    if (typeof v !== 'number') { return esc(v); }
    return v.toLocaleString(R.locale || 'en-GB', {maximumFractionDigits: digits, minimumFractionDigits: 0});
  }

  function fmtField(R, kind, v) {
    if (v === null || v === undefined || v === '') { return null; }
    switch (kind) {
      case 'km': return fillHtml(R.t('{n} km'), {n: fmtNum(R, v, 1)});
      case 'h': {
        var h = fillHtml(R.t('{n} h'), {n: fmtNum(R, v, 1)});
        if (typeof v === 'number' && v >= 48) {
          h += ' (&asymp; ' + fillHtml(R.t('{n} days'), {n: fmtNum(R, v / 24, 1)}) + ')';
        }
        return h;
      }
      case 'bool': return v === true || v === 1 || v === 'true' || v === 'True' ? esc(R.t('yes')) : esc(R.t('no'));
      case 'num': return fmtNum(R, v, 3);
      case 'int': return fmtNum(R, v, 0);
      case 'url':
        if (/^https?:\/\//i.test(String(v))) {
          return '<a href="' + esc(v) + '" target="_blank" rel="noopener noreferrer">' + esc(v) + '</a>';
        }
        return esc(v);
      default: return esc(v);
    }
  }

  function popupHtml(R, i) {
    var S = R.data.sites;
    var h = '<div class="rm-popup-body"><h4 class="rm-title">' + esc(val(S, 'name', i)) + '</h4>';
    var cat = val(S, 'category', i);
    if (cat) { h += '<p class="rm-kind">' + esc(cat) + '</p>'; }
    var prec = val(S, 'coord_precision', i), rawPrec = S.hollow[i] === 1;
    if (rawPrec) {
      h += '<p class="rm-note">' + fillHtml(R.t('Approximate location ({precision}): the point is not the ' +
        'facility itself. Check before use.'), {precision: esc(prec)}) + '</p>';
    }
    var why = val(S, 'why', i);
    if (why) {
      h += '<div class="rm-why"><h5>' + esc(R.t('Why it matters')) + '</h5><ul>';
      String(why).split('\n').forEach(function (w) { h += '<li>' + esc(w) + '</li>'; });
      h += '</ul></div>';
    }
    var groups = S.groups || [''];
    groups.forEach(function (g, gi) {
      var rows = '';
      S.fields.forEach(function (f) {
        var name = f[0], label = f[1], kind = f[2];
        if ((f[3] || '') !== g || name === 'category') { return; }
        var raw = val(S, name, i);
        var v = fmtField(R, kind, raw);
        if (v === null) { return; }
        if (name === 'priority_rank' && S.nRanked) {
          v = fillHtml(R.t('{rank} of {n}'), {rank: v, n: fmtNum(R, S.nRanked, 0)});
        }
        if (name === 'source') {
          var url = val(S, 'source_url', i);
          if (url && /^https?:\/\//i.test(String(url))) {
            v = '<a href="' + esc(url) + '" target="_blank" rel="noopener noreferrer">' + v + '</a>';
          }
        }
        rows += '<tr><th>' + esc(label) + '</th><td>' + v + '</td></tr>';
      });
      if (rows) {
        h += '<details class="rm-group"' + (g === 'Sources' ? '' : ' open') + '><summary>' +
          esc((S.groupNames && S.groupNames[gi]) || g) +
          '</summary><table class="rm-record">' + rows + '</table></details>';
      }
    });
    if (R.reachIndex && val(S, 'reach_id', i) !== null && R.data.rivers) {
      h += '<p class="rm-hint">' + esc(R.t('The downstream path is drawn on the map while this popup is open.')) +
        '</p>';
    }
    var kosovo = (R.data.countryNames && R.data.countryNames.XKX) || 'Kosovo*';
    if (S.kosovo && (String(val(S, 'country', i)) + String(val(S, 'downstream_countries', i))).indexOf(kosovo) >= 0) {
      h += '<p class="rm-hint">' + esc(R.data.kosovoNote || '') + '</p>';
    }
    return h + '</div>';
  }

  /* Popup size from the map's size, so that it always fits on screen (phones, notebooks). */
  function popupOptions(R) {
    var size = R.map.getSize();
    // room for the controls: search and zoom (left), filters and layers (top right), attribution (bottom)
    var narrow = size.x < 600, left = narrow ? 58 : 12, right = narrow ? 8 : 12;
    return {maxWidth: Math.max(150, Math.min(380, size.x - left - right - 40)),
      minWidth: Math.min(240, size.x - left - right - 40),
      maxHeight: Math.max(120, Math.min(440, size.y - 190)), autoPan: true, keepInView: true,
      autoPanPaddingTopLeft: L.point(left, 100), autoPanPaddingBottomRight: L.point(right, 50), className: 'rm-popup'};
  }

  function fitPopup(R, popup) {
    var o = popupOptions(R);
    popup.options.maxWidth = o.maxWidth;
    popup.options.minWidth = o.minWidth;
    popup.options.maxHeight = o.maxHeight;
    popup.update();
  }

  /* Reaches downstream of `start`, in flow order (start first): looked up in the table
     Python precomputed (data.downstream, riskmap.network); no walking here. */
  function walk(R, start) {
    var ids = (R.data.downstream && R.data.downstream[String(start)]) || [], out = [];
    for (var k = 0; k < ids.length && R.reachIndex[ids[k]]; k++) { out.push(R.reachIndex[ids[k]]); }
    return out;
  }

  /* First border crossing on a path: {k, km, latlng, to} or null. */
  function firstCrossing(path, country) {
    var km = 0;
    for (var k = 0; k < path.length; k++) {
      var p = path[k].feature.properties;
      if (p.b || (country && p.c && p.c !== country)) {
        return {k: k, km: km, latlng: flatLatLngs(path[k])[0], to: p.c};
      }
      if (k > 0 && typeof p.km === 'number') { km += p.km; }
    }
    return null;
  }

  function countryName(R, code) {
    if (!code) { return null; }
    var names = R.data.countryNames || {};
    var joined = String(code).split('|').map(function (c) { return names[c] || c; }).join(' / ');
    return String(code).indexOf('|') >= 0 ? fill(R.t('{countries} border'), {countries: joined}) : joined;
  }

  function pathLine(path, style) {
    return L.polyline(path.map(flatLatLngs), style);
  }

  function crossingMarker(R, cr, title) {
    var m = L.circleMarker(cr.latlng, {pane: 'rmCross', radius: 7, color: '#000000', weight: 2,
      fillColor: '#ffeb3b', fillOpacity: 1, className: 'rm-crossing'});
    m.bindTooltip(esc(title) + '<br>' + fillHtml(R.t('first border crossing: {border}'),
      {border: esc(countryName(R, cr.to) || R.t('border'))}) + '<br>&asymp; ' +
      fillHtml(R.t('{n} km along the rivers'), {n: fmtNum(R, cr.km, 1)}), {direction: 'top'});
    return m;
  }

  function isTransboundary(R, i, path) {
    var tb = val(R.data.sites, 'transboundary_downstream', i);
    if (tb !== null) { return tb === true || tb === 1 || tb === 'true' || tb === 'True'; }
    var c = val(R.data.sites, 'country_code', i);
    return firstCrossing(path, c) !== null;
  }

  function showPath(R, i) {
    var G = R.groups;
    if (!G.selected) { return; }
    G.selected.clearLayers();
    var rid = val(R.data.sites, 'reach_id', i);
    if (rid === null) { return; }
    var path = walk(R, rid);
    if (!path.length) { return; }
    pathLine(path, {pane: 'rmPath', color: '#d7301f', weight: 6, opacity: 0.9, className: 'rm-selected-path',
      interactive: false}).addTo(G.selected);
    var cr = firstCrossing(path, val(R.data.sites, 'country_code', i));
    if (cr) {
      if (cr.k === 0) { cr.latlng = R.markers[i].getLatLng(); }  // the site is on border water itself
      crossingMarker(R, cr, val(R.data.sites, 'name', i)).addTo(G.selected);
    }
    if (!R.map.hasLayer(G.selected)) { R.map.addLayer(G.selected); }
  }

  function geo(R, key, group, opts) {
    if (!R.data[key] || !group) { return null; }
    return L.geoJSON(R.data[key], opts).addTo(group);
  }

  function buildBasemap(R) {
    var D = R.data, G = R.groups, st = D.style;
    geo(R, 'sea', G.countries, {pane: 'rmLand', interactive: false, style: function () {
      return {stroke: false, fillColor: st.sea, fillOpacity: 1, className: 'rm-sea'};
    }});
    geo(R, 'countries', G.countries, {pane: 'rmLand', interactive: false, style: function (f) {
      return {color: '#9e9e9e', weight: 0.6, fillColor: f.properties.r ? st.land : st.landOther, fillOpacity: 1,
        className: 'rm-country'};
    }});
    if (D.labels && G.countries) {
      D.labels.forEach(function (lb) {
        L.marker([lb[1], lb[0]], {pane: 'rmLabels', interactive: false, keyboard: false,
          icon: L.divIcon({className: 'rm-label' + (lb[3] ? '' : ' rm-label-other'), html: esc(lb[2]),
            iconSize: null})}).addTo(G.countries);
      });
    }
    geo(R, 'borders', G.borders, {pane: 'rmLines', interactive: false, style: function (f) {
      return {color: '#4a4a4a', weight: 1.6, opacity: 0.9, dashArray: f.properties.d ? '6 4' : null};
    }});
    geo(R, 'sub_basins', G.sub_basins, {pane: 'rmBasin', style: function () {
      return {color: '#6a51a3', weight: 1, opacity: 0.8, dashArray: '4 3', fill: true, fillOpacity: 0.02};
    }, onEachFeature: function (f, l) {
      l.bindTooltip(fillHtml(R.t('Sub-basin: {name}'), {name: esc(f.properties.n)}), {sticky: true});
    }});
    geo(R, 'outline', G.outline, {pane: 'rmBasin', interactive: false, style: function () {
      return {color: '#3f007d', weight: 2.5, opacity: 0.9, fill: false};
    }});
    var lakeStyle = function (f) {
      return {color: st.water, weight: 1, fillColor: st.lake, fillOpacity: 0.9, className: 'rm-lake',
        dashArray: f.properties.k === 'reservoir' ? '3 2' : null};
    };
    var lakeKind = function (k) {  // riskmap's two kinds in the map's language, anything else as it is
      return k === 'reservoir' ? R.t('reservoir') : !k || k === 'lake' ? R.t('lake') : k;
    };
    geo(R, 'ctx_lakes', G.lakes, {pane: 'rmWater', style: lakeStyle, onEachFeature: function (f, l) {
      l.bindTooltip(esc(f.properties.n || R.t('unnamed lake')) + ' (' + esc(lakeKind(f.properties.k)) + ')',
        {sticky: true});
    }});
    geo(R, 'lakes', G.lakes, {pane: 'rmWater', style: lakeStyle, onEachFeature: function (f, l) {
      l.bindTooltip(esc(f.properties.n || R.t('unnamed')) + ' (' + esc(lakeKind(f.properties.k)) + ')' +
        (f.properties.s ? fillHtml(R.t(', shared: {countries}'), {countries: esc(f.properties.c)}) : ''),
        {sticky: true});
    }});
    if (D.rivers && G.lakes) {  // reservoir and lake stretches of the rivers, drawn wide in lake colour
      L.geoJSON({type: 'FeatureCollection', features: D.rivers.features.filter(function (f) {
        return f.properties.w && /reservoir|lake|jezero|ezero/i.test(String(f.properties.w));
      })}, {pane: 'rmWater', interactive: false, style: function () {
        return {color: st.lake, weight: 7, opacity: 0.95, lineCap: 'round', className: 'rm-reservoir-reach'};
      }}).addTo(G.lakes);
    }
    geo(R, 'dams', G.lakes, {pane: 'rmLabels', pointToLayer: function (f, ll) {
      return L.circleMarker(ll, {radius: 4, color: '#ffffff', weight: 1.5, fillColor: '#08306b', fillOpacity: 1,
        className: 'rm-dam'});
    }, onEachFeature: function (f, l) {
      var p = f.properties;
      l.bindTooltip(fillHtml(R.t('Dam {name}'), {name: esc(p.n)}) + (p.v ? ' (' + esc(p.v) + ')' : '') +
        (p.r ? '<br>' + esc(p.r) : '') + (p.mw ? '<br>' + fillHtml(R.t('{n} MW'), {n: fmtNum(R, p.mw, 0)}) : ''));
    }});
    var rl = geo(R, 'rivers', G.rivers, {pane: 'rmWater', style: function (f) {
      var o = f.properties.o || 1;
      return {color: f.properties.b ? st.borderRiver : st.water, weight: Math.min(1 + 0.8 * (o - 1), 6) + (f.properties.b ? 1.5 : 0),
        opacity: 0.95, lineCap: 'round', className: f.properties.b ? 'rm-river rm-border-river' : 'rm-river'};
    }, onEachFeature: function (f, l) {
      R.reachIndex[f.properties.id] = l;
      l.bindTooltip(esc(f.properties.n || R.t('unnamed river')) + (f.properties.b ? ' &ndash; ' +
        fillHtml(R.t('border stretch ({countries})'), {countries: esc(countryName(R, f.properties.c))}) : '') +
        (f.properties.w ? ', ' + esc(f.properties.w) : ''), {sticky: true});
    }});
    R.riverLayer = rl;
    if (D.rivers && G.rivers) {  // border stretches again, above the downstream paths: the border stays visible
      L.geoJSON({type: 'FeatureCollection', features: D.rivers.features.filter(function (f) { return f.properties.b; })},
        {pane: 'rmBorderTop', interactive: false, style: function (f) {
          return {color: st.borderRiver, weight: Math.min(1 + 0.8 * ((f.properties.o || 1) - 1), 3.5), opacity: 1,
            lineCap: 'round', className: 'rm-border-top'};
        }}).addTo(G.rivers);
    }
    geo(R, 'towns', G.towns, {pane: 'rmLabels', pointToLayer: function (f, ll) {
      return L.circleMarker(ll, {radius: 3, color: '#333333', weight: 1, fillColor: '#ffffff', fillOpacity: 1});
    }, onEachFeature: function (f, l) {  // the country code (English, as before) or name (other languages)
      var c = f.properties.c, cn = c && R.lang !== 'en' ? countryName(R, c) : c;
      l.bindTooltip(esc(f.properties.n) + (c ? ' (' + esc(cn) + ')' : ''));
    }});
    buildPlaces(R);
    geo(R, 'faults', G.faults, {pane: 'rmHazard', style: function () {
      return {color: '#8c2d04', weight: 1.6, opacity: 0.85, className: 'rm-fault'};
    }, onEachFeature: function (f, l) {
      var p = f.properties;
      l.bindTooltip((p.n ? fillHtml(R.t('Active fault: {name}'), {name: esc(p.n)}) : esc(R.t('Active fault'))) +
        (p.t ? '<br>' + esc(p.t) : '') +
        (p.r ? '<br>' + fillHtml(R.t('slip rate {rate}'), {rate: esc(p.r)}) : ''), {sticky: true});
    }});
    geo(R, 'quakes', G.quakes, {pane: 'rmHazard', pointToLayer: function (f, ll) {
      var m = f.properties.m || 5;
      return L.circleMarker(ll, {radius: Math.max(2.5, 2.5 + (m - 5) * 2.2), color: '#7f0000', weight: 1,
        fillColor: '#fc4e2a', fillOpacity: 0.45, className: 'rm-quake'});
    }, onEachFeature: function (f, l) {
      var p = f.properties;
      l.bindTooltip(fillHtml(R.t('Earthquake M{magnitude}'), {magnitude: fmtNum(R, p.m, 1)}) +
        (p.y ? ', ' + esc(p.y) : '') + (p.d !== null && p.d !== undefined ?
          fillHtml(R.t(', depth {n} km'), {n: fmtNum(R, p.d, 0)}) : ''));
    }});
  }

  /* Towns (GeoNames places): a dot and a label, the larger ones first as you zoom in. */
  var TOWN_MIN_POP = [[6, 200000], [7, 50000], [8, 15000], [9, 5000], [10, 0]];

  function townThreshold(zoom) {
    for (var k = 0; k < TOWN_MIN_POP.length; k++) { if (zoom <= TOWN_MIN_POP[k][0]) { return TOWN_MIN_POP[k][1]; } }
    return 0;
  }

  function buildPlaces(R) {
    var P = R.data.places, G = R.groups;
    if (!P || !G.places) { return; }
    var ms = [];
    for (var k = 0; k < P.n.length; k++) {
      var icon = L.divIcon({className: 'rm-town', iconSize: null,
        html: '<span class="rm-town-dot"></span><span class="rm-town-name">' + esc(P.n[k]) + '</span>'});
      ms.push(L.marker([P.lat[k], P.lon[k]], {pane: 'rmLabels', interactive: false, keyboard: false, icon: icon}));
    }
    function update() {
      var min = townThreshold(R.map.getZoom()), shown = 0;
      for (var j = 0; j < ms.length; j++) {
        var want = (P.p[j] || 0) >= min && shown < 60;
        if (want) { shown++; }
        if (want && !G.places.hasLayer(ms[j])) { G.places.addLayer(ms[j]); }
        if (!want && G.places.hasLayer(ms[j])) { G.places.removeLayer(ms[j]); }
      }
      R.townsShown = shown;
    }
    R.map.on('zoomend', update);
    update();
  }

  function buildSites(R) {
    var D = R.data, S = D.sites, G = R.groups;
    if (!S || !G.sites) { return; }
    var markers = new Array(S.n);
    if (G.sites.options && G.sites.addLayers) {
      // cluster colour = the most severe class among its sites (class 0 is the most severe)
      G.sites.options.iconCreateFunction = function (cluster) {
        var ms = cluster.getAllChildMarkers(), best = 1e9;
        for (var k = 0; k < ms.length; k++) { var c = S.cls[ms[k].options.riskmapIndex]; if (c < best) { best = c; } }
        var col = S.colors[best] || '#777777', n = cluster.getChildCount();
        var size = n < 10 ? 26 : n < 100 ? 32 : n < 1000 ? 38 : 44;
        return L.divIcon({html: '<div style="background:' + col + '"><span>' + n + '</span></div>',
          className: 'rm-cluster', iconSize: [size, size]});
      };
    }
    for (var i = 0; i < S.n; i++) {
      var m = L.marker([S.lat[i], S.lon[i]], {
        icon: iconFor(R, D.shapeNames[S.shape[i]], S.colors[S.cls[i]], S.hollow[i] === 1),
        riskmapIndex: i, keyboard: true, alt: ''});
      m.bindTooltip(esc(val(S, 'name', i)), {direction: 'top'});
      m.bindPopup((function (j) { return function () { return popupHtml(R, j); }; })(i), popupOptions(R));
      markers[i] = m;
    }
    if (G.sites.addLayers) { G.sites.addLayers(markers); } else { markers.forEach(function (m) { G.sites.addLayer(m); }); }
    R.markers = markers;
    R.map.on('popupopen', function (e) {
      var src = e.popup && e.popup._source;
      if (src && src.options && src.options.riskmapIndex !== undefined) { fitPopup(R, e.popup); }
      if (src && src.options && src.options.riskmapIndex !== undefined) { showPath(R, src.options.riskmapIndex); }
    });
    R.map.on('popupclose', function () { if (G.selected) { G.selected.clearLayers(); } });
    if (D.lines && G.lines) {
      L.geoJSON(D.lines, {pane: 'rmPath', style: function (f) {
        return {color: S.colors[f.properties.cl], weight: 3.5, opacity: 0.95, dashArray: f.properties.h ? '2 5' : '9 4',
          lineCap: 'butt', className: 'rm-site-line'};
      }, onEachFeature: function (f, l) {
        l.bindTooltip(esc(val(S, 'name', f.properties.i)), {sticky: true});
        l.options.riskmapIndex = f.properties.i;
        R.lineLayers[f.properties.i] = l;
        l.bindPopup(function () { return popupHtml(R, f.properties.i); }, popupOptions(R));
      }}).addTo(G.lines);
    }
  }

  function buildPaths(R) {
    var D = R.data, S = D.sites, G = R.groups;
    if (!S || !G.paths || !D.rivers || !S.cols.reach_id) { return; }
    var onPath = {}, crossings = {}, nTb = 0, memo = {};
    for (var i = 0; i < S.n; i++) {
      var rid = val(S, 'reach_id', i);
      if (rid === null || !R.reachIndex[rid]) { continue; }
      var c = val(S, 'country_code', i), key = rid + '|' + c;
      var res = memo[key];
      if (res === undefined) {
        var path = walk(R, rid);
        res = isTransboundary(R, i, path) ? {path: path, cr: firstCrossing(path, c)} : null;
        memo[key] = res;
      }
      if (!res) { continue; }
      nTb++;
      res.path.forEach(function (l) { onPath[l.feature.properties.id] = l; });
      if (res.cr && res.cr.k > 0) {  // sites on border water are their own crossing: no extra dot
        var ck = res.path[res.cr.k].feature.properties.id;
        if (!crossings[ck]) { crossings[ck] = {cr: res.cr, names: []}; }
        if (crossings[ck].names.length < 5) { crossings[ck].names.push(val(S, 'name', i)); }
        crossings[ck].n = (crossings[ck].n || 0) + 1;
      }
    }
    var ids = Object.keys(onPath);
    if (ids.length) {
      pathLine(ids.map(function (k) { return onPath[k]; }), {pane: 'rmPath', color: '#ef6548', weight: 4,
        opacity: 0.75, className: 'rm-tb-path', interactive: false}).addTo(G.paths);
    }
    Object.keys(crossings).forEach(function (k) {
      var x = crossings[k];
      var title = fill(R.ngettext('{n} transboundary site upstream, e.g. {names}',
        '{n} transboundary sites upstream, e.g. {names}', x.n), {n: x.n, names: x.names.join('; ')});
      crossingMarker(R, x.cr, title).addTo(G.paths);
    });
    R.transboundarySites = nTb;
    R.crossings = Object.keys(crossings).length;
  }

  function addSearch(R) {
    var S = R.data.sites;
    if (!S || !S.n) { return; }
    var names = [], lower = [];
    for (var i = 0; i < S.n; i++) {
      var n = String(val(S, 'name', i) || '');
      names.push(n);
      lower.push(n.toLowerCase());
    }
    var Search = L.Control.extend({
      options: {position: 'topleft'},
      onAdd: function () {
        var div = L.DomUtil.create('div', 'rm-search leaflet-bar');
        var input = L.DomUtil.create('input', 'rm-search-input', div);
        input.type = 'search';
        input.placeholder = R.t('Search sites\u2026');
        input.setAttribute('aria-label', R.t('Search site names'));
        var list = L.DomUtil.create('ul', 'rm-search-results', div);
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        function go(j) {
          list.textContent = '';
          var m = R.markers[j], G = R.groups;
          if (!R.map.hasLayer(G.sites)) { R.map.addLayer(G.sites); }
          if (G.sites.zoomToShowLayer) {
            G.sites.zoomToShowLayer(m, function () { m.openPopup(); });
          } else {
            R.map.setView(m.getLatLng(), Math.max(R.map.getZoom(), 10));
            m.openPopup();
          }
        }
        var first = null;
        input.addEventListener('input', function () {
          list.textContent = '';
          first = null;
          var q = input.value.trim().toLowerCase();
          if (!q) { return; }
          var hits = 0;
          for (var j = 0; j < lower.length && hits < 12; j++) {
            if (lower[j].indexOf(q) < 0) { continue; }
            var li = document.createElement('li');
            var c = val(S, 'country', j);
            var label = document.createElement('bdi');  // a bidi control in a name cannot reorder the rest
            label.textContent = names[j];
            li.appendChild(label);
            if (c) { li.appendChild(document.createTextNode(' (' + c + ')')); }  // country name, as text
            li.tabIndex = 0;
            li.className = 'rm-search-hit';
            li.addEventListener('click', (function (k) { return function () { go(k); }; })(j));
            li.addEventListener('keydown', (function (k) {
              return function (e) { if (e.key === 'Enter') { go(k); } };
            })(j));
            list.appendChild(li);
            if (first === null) { first = j; }
            hits++;
          }
          if (!hits) {
            var none = document.createElement('li');
            none.className = 'rm-search-none';
            none.textContent = R.t('No site found');
            list.appendChild(none);
          }
        });
        input.addEventListener('keydown', function (e) {
          if (e.key === 'Enter' && first !== null) { go(first); }
        });
        return div;
      }
    });
    R.search = new Search().addTo(R.map);
  }

  /* Collapsed by default on small screens and inside frames (Jupyter notebooks). */
  function startCollapsed(R) {
    var framed = false;
    try { framed = root.self !== root.top; } catch (err) { framed = true; }
    return framed || R.map.getSize().x < 600;
  }

  function addLegend(R) {
    if (!R.data.legend) { return; }
    var Legend = L.Control.extend({
      options: {position: 'bottomright'},
      onAdd: function () {
        var div = L.DomUtil.create('div', 'rm-legend');
        div.innerHTML = R.data.legend;  // built and escaped by riskmap.maps
        var det = div.querySelector('details');
        if (det && startCollapsed(R)) { det.removeAttribute('open'); }
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      }
    });
    R.legend = new Legend().addTo(R.map);
  }

  /* Site filters (kind, exposure class, status, country) over the embedded data. */
  function applyFilters(R) {
    var S = R.data.sites, G = R.groups, F = S.filters, show = [], hide = [], n = 0;
    for (var i = 0; i < S.n; i++) {
      var ok = true;
      for (var k = 0; k < F.length && ok; k++) { ok = R.filterOn[k][F[k].idx[i]]; }
      (ok ? show : hide).push(R.markers[i]);
      if (ok) { n++; }
      var ln = R.lineLayers[i];
      if (ln && G.lines) {
        if (ok && !G.lines.hasLayer(ln)) { G.lines.addLayer(ln); }
        if (!ok && G.lines.hasLayer(ln)) { G.lines.removeLayer(ln); }
      }
    }
    if (G.sites.removeLayers) {
      G.sites.removeLayers(hide);
      G.sites.addLayers(show.filter(function (m) { return !G.sites.hasLayer(m); }));
    } else {
      hide.forEach(function (m) { if (G.sites.hasLayer(m)) { G.sites.removeLayer(m); } });
      show.forEach(function (m) { if (!G.sites.hasLayer(m)) { G.sites.addLayer(m); } });
    }
    R.visibleSites = n;
    if (R.filterCount) { R.filterCount.textContent = shownText(R, n, S.n); }
  }

  function shownText(R, n, total) {
    return fill(R.ngettext('{n} of {total} site shown', '{n} of {total} sites shown', total),
      {n: n.toLocaleString(R.locale), total: total.toLocaleString(R.locale)});
  }

  function addFilters(R) {
    var S = R.data.sites;
    if (!S || !S.n || !S.filters || !S.filters.length || !R.groups.sites) { return; }
    R.filterOn = S.filters.map(function (f) { return f.values.map(function () { return true; }); });
    R.visibleSites = S.n;
    var Filters = L.Control.extend({
      options: {position: 'topright'},
      onAdd: function () {
        var div = L.DomUtil.create('div', 'rm-filters leaflet-bar');
        var det = document.createElement('details');
        var sum = document.createElement('summary');
        sum.textContent = R.t('Filter sites');
        det.appendChild(sum);
        var count = document.createElement('div');
        count.className = 'rm-filter-count';
        det.appendChild(count);
        R.filterCount = count;
        S.filters.forEach(function (f, k) {
          var fs = document.createElement('fieldset');
          fs.className = 'rm-filter';
          fs.setAttribute('data-filter', f.key);
          var lg = document.createElement('legend');
          lg.textContent = f.label;
          fs.appendChild(lg);
          f.values.forEach(function (v, j) {
            var lab = document.createElement('label');
            var box = document.createElement('input');
            box.type = 'checkbox';
            box.checked = true;
            box.value = String(v[0]);
            box.addEventListener('change', function () { R.filterOn[k][j] = box.checked; applyFilters(R); });
            lab.appendChild(box);
            var txt = document.createElement('span');
            txt.textContent = ' ' + v[1] + ' (' + v[2] + ')';
            lab.appendChild(txt);
            fs.appendChild(lab);
          });
          det.appendChild(fs);
        });
        var reset = document.createElement('button');
        reset.type = 'button';
        reset.className = 'rm-filter-reset';
        reset.textContent = R.t('Show all sites');
        reset.addEventListener('click', function () {
          R.filterOn = S.filters.map(function (f) { return f.values.map(function () { return true; }); });
          Array.prototype.forEach.call(div.querySelectorAll('input[type=checkbox]'), function (b) { b.checked = true; });
          applyFilters(R);
        });
        det.appendChild(reset);
        div.appendChild(det);
        count.textContent = shownText(R, S.n, S.n);
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      }
    });
    R.filters = new Filters().addTo(R.map);
  }

  /* Leaflet's own control texts (zoom buttons, scale bar) in the map's language; English maps untouched. */
  function translateControls(R) {
    if (R.lang === 'en') { return; }
    var zc = R.map.zoomControl;
    if (zc && zc._zoomInButton) {
      [[zc._zoomInButton, R.t('Zoom in')], [zc._zoomOutButton, R.t('Zoom out')]].forEach(function (b) {
        b[0].title = b[1];
        b[0].setAttribute('aria-label', b[1]);
      });
    }
    var el = R.map.getContainer().querySelector('.leaflet-control-scale');
    if (!el) { return; }
    // folium keeps no handle on its scale bar: its class is patched (one language per page, as in a notebook frame)
    L.Control.Scale.prototype._updateMetric = function (maxMeters) {
      var meters = this._getRoundNum(maxMeters);
      var label = meters < 1000 ? fill(R.t('{n} m'), {n: meters}) : fill(R.t('{n} km'), {n: meters / 1000});
      this._updateScale(this._mScale, label, meters / maxMeters);
    };
    L.Control.Scale.prototype._updateImperial = function () {};  // miles and feet: not on a metric map
    Array.prototype.forEach.call(el.querySelectorAll('.leaflet-control-scale-line'), function (line, k) {
      if (k > 0) { line.style.display = 'none'; }
    });
  }

  function build(map, data, groups) {
    var R = {map: map, data: data, groups: groups, icons: {}, markers: [], reachIndex: {}, lineLayers: {}};
    setLanguage(R);
    translateControls(R);
    if (map.options.maxZoom === undefined) { map.setMaxZoom(data.maxZoom || 18); }
    if (map.options.minZoom === undefined) { map.setMinZoom(data.minZoom || 3); }
    var panes = [['rmLand', 250], ['rmBasin', 360], ['rmWater', 380], ['rmHazard', 385], ['rmLines', 390],
      ['rmPath', 410], ['rmBorderTop', 415], ['rmLabels', 420], ['rmCross', 590]];
    panes.forEach(function (p) { if (!map.getPane(p[0])) { map.createPane(p[0]).style.zIndex = p[1]; } });
    map.getPane('rmLabels').style.pointerEvents = 'none';
    map.getPane('rmBorderTop').style.pointerEvents = 'none';
    map.getContainer().style.background = data.style.outside || data.style.sea;
    if (data.attribution && map.attributionControl) { map.attributionControl.addAttribution(esc(data.attribution)); }
    if (data.bounds) { map.fitBounds(data.bounds, {padding: [10, 10], animate: false}); }

    buildBasemap(R);
    buildSites(R);
    buildPaths(R);
    addSearch(R);
    addFilters(R);
    addLegend(R);
    R.ready = true;
    root.RISKMAP_MAPS = root.RISKMAP_MAPS || [];
    root.RISKMAP_MAPS.push(R);
    return R;
  }

  root.riskmap = {build: build, esc: esc};
})(window);
