(function() {
  var map = __MAP__, data = __DATA__, groups = __GROUPS__;
  var origin = data.origin, unit = data.precision;
  function ring(steps) {
    var out = [], x = 0, y = 0;
    for (var i = 0; i < steps.length; i += 2) {
      x += steps[i]; y += steps[i + 1];
      out.push([origin[0] + x * unit, origin[1] + y * unit]);
    }
    if (out.length) out.push(out[0]);
    return out;
  }
  function geometry(g) {
    if (typeof g[0] === 'number') {
      return {type: 'Point', coordinates: [origin[0] + g[0] * unit, origin[1] + g[1] * unit]};
    }
    return {type: 'MultiPolygon', coordinates: g.map(function(p) { return p.map(ring); })};
  }
  var shapes = {};
  Object.keys(data.shapes).forEach(function(k) { shapes[k] = data.shapes[k].map(geometry); });
  function collection(set, props) {
    var keys = Object.keys(props);
    return {type: 'FeatureCollection', features: shapes[set].map(function(g, i) {
      var p = {};
      keys.forEach(function(k) { p[k] = props[k][i]; });
      return {type: 'Feature', geometry: g, properties: p};
    })};
  }
  // tooltips are text nodes: a name from the inputs is shown, never parsed as HTML
  function tooltip(fields) {
    return function(layer) {
      var box = document.createElement('div');
      fields.forEach(function(f) {
        var value = layer.feature.properties[f];
        if (value === null || value === undefined || value === '') return;
        var row = document.createElement('div');
        var label = document.createElement('b');
        label.textContent = f + ': ';
        row.appendChild(label);
        row.appendChild(document.createTextNode(String(value)));
        box.appendChild(row);
      });
      return box;
    };
  }
  data.outlines.forEach(function(o) {
    L.geoJSON(collection(o.shapes, {}), {style: o.style, interactive: false}).addTo(map);
  });
  var layers = {}, counts = {};
  data.layers.forEach(function(d) {
    var group = groups[d.name], s = d.style, props = Object.assign({}, d.props);
    if (d.fill) props._fill = d.fill;
    var style = s.kind === 'concern' ?
      function(f) { return s.styles[f.properties._kind]; } :
      function(f) { return {fillColor: f.properties._fill, fillOpacity: s.fill_opacity || 0.8,
                            color: s.color, weight: s.weight}; };
    if (s.catchments) {
      L.geoJSON(collection(s.catchments, {}), {interactive: false, style: {
        color: '#1b7837', weight: 2, dashArray: '2 4', fill: false}}).addTo(group);
    }
    var options = {style: style, smoothFactor: 0.5};
    if (d.pane) options.pane = d.pane;
    if (s.kind === 'sites') {
      options.pointToLayer = function(f, latlng) {
        return L.circleMarker(latlng, Object.assign({radius: 7, fill: true}, style(f)));
      };
    }
    if (s.kind === 'concern') {  // a light casing under each outline: it shows on any fill
      L.geoJSON(collection(d.shapes, props), {interactive: false, pane: d.pane,
        style: function(f) { var o = s.styles[f.properties._kind];
          return {color: s.casing.color, weight: o.weight + s.casing.extra_weight,
                  opacity: 1, fill: false}; }}).addTo(group);
    }
    var layer = L.geoJSON(collection(d.shapes, props), options);
    layer.eachLayer(function(l) {
      // the areas are not Tab stops one by one: the table page holds their figures
      l.on('add', function() { var e = l.getElement && l.getElement();
                               if (e) e.setAttribute('tabindex', '-1'); });
      l.bindTooltip(tooltip(d.tooltip), {sticky: true});
      l.on('mouseover', function() { l.setStyle({weight: 3, color: '#000'}); });
      l.on('mouseout', function() { layer.resetStyle(l); });
    });
    layer.addTo(group);
    layers[d.name] = layer;
    counts[d.name] = shapes[d.shapes].length;
  });
  window.GEO_RISK_MAP = map;
  window.GEO_RISK_LAYERS = layers;
  window.GEO_RISK_COUNTS = counts;
  window.GEO_RISK_OUTLINES = data.outlines.map(function(o) { return o.name; });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(data.attribution);
  function sync() {
    document.querySelectorAll('.gr-legend section').forEach(function(s) {
      var g = groups[s.getAttribute('data-layer')];
      s.style.display = (g && map.hasLayer(g)) ? '' : 'none';
    });
  }
  // a fragment (map.html#hotspots) opens the map on the layers it names
  function follow() {
    var wanted = data.views[location.hash.slice(1)] || data.views[data.start];
    Object.keys(groups).forEach(function(name) {
      var on = wanted.indexOf(name) >= 0;
      if (on && !map.hasLayer(groups[name])) map.addLayer(groups[name]);
      if (!on && map.hasLayer(groups[name])) map.removeLayer(groups[name]);
    });
    sync();
  }
  // the layer control: expanded where there is room, a button on a narrow screen; the
  // legend folds away there too
  var narrow = window.innerWidth < 700;
  L.control.layers(null, groups, {collapsed: narrow, position: 'topright'}).addTo(map);
  var legend = document.querySelector('.gr-legend');
  if (legend) map.getContainer().after(legend);  // Tab reaches the map's controls first
  if (narrow && legend) legend.open = false;
  // the data fills the space the panels leave: none covers an area on opening
  function fit() {
    var title = document.querySelector('.gr-title');
    var attribution = document.querySelector('.leaflet-control-attribution');
    var left = legend && legend.open ? legend.offsetWidth + 20 : 10;
    var top = title ? title.offsetTop + title.offsetHeight + 10 : 10;
    var bottom = (attribution ? attribution.offsetHeight : 0) + 30;
    map.fitBounds(data.bounds, {paddingTopLeft: [left, top], paddingBottomRight: [10, bottom],
                               animate: false});
  }
  fit();
  if (legend) legend.addEventListener('toggle', fit);
  map.on('overlayadd overlayremove', sync);
  // the skip link and the controls come first; Escape closes any tooltip
  map.getContainer().setAttribute('tabindex', '-1');
  document.addEventListener('keydown', function(e) {
    if (e.key !== 'Escape') return;
    Object.keys(layers).forEach(function(name) {
      layers[name].eachLayer(function(l) { if (l.isTooltipOpen()) l.closeTooltip(); });
    });
  });
  window.addEventListener('hashchange', follow);
  follow();
})();
