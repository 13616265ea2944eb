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
  // each property column is held once: a list, or its distinct values and a code each
  var decoded = {};
  function column(i) {
    if (!(i in decoded)) {
      var c = data.columns[i];
      decoded[i] = Array.isArray(c) ? c : c.codes.map(function(k) { return c.values[k]; });
    }
    return decoded[i];
  }
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
    var group = groups[d.name], s = d.style, props = {};
    Object.keys(d.props).forEach(function(k) { props[k] = column(d.props[k]); });
    if (d.fill !== null) props._fill = column(d.fill);
    var style = s.kind === 'concern' ?
      function(f) { return s.styles[f.properties._kind]; } :
      function(f) { return {fillColor: f.properties._fill, fillOpacity: s.fill_opacity || 0.8,
                            color: s.color, weight: s.weight}; };
    if (s.catchments) {
      L.geoJSON(collection(s.catchments, {}), {interactive: false, style: {
        color: '#1b7837', weight: 2, dashArray: '2 4', fill: false}}).addTo(group);
    }
    if (s.unstable) {  // an unstable category: paler, edged dashed
      var plain = style;
      style = function(f) {
        return f.properties._unstable ? Object.assign(plain(f), {
          color: s.unstable.color, dashArray: s.unstable.dashArray, weight: s.unstable.weight,
          fillOpacity: s.unstable.fill_opacity}) : plain(f);
      };
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
  // ward names, drawn where few enough are in view to read (screen readers have the
  // table page: the names here are hidden from them)
  var labelPane = map.createPane('labels');
  labelPane.style.zIndex = 460;
  labelPane.style.pointerEvents = 'none';
  labelPane.setAttribute('aria-hidden', 'true');
  var labelNames = column(data.labels.names), labels = L.layerGroup().addTo(map);
  var markers = shapes[data.labels.shapes].map(function(g, i) {
    var text = document.createElement('span');
    text.textContent = labelNames[i];
    return L.marker([g.coordinates[1], g.coordinates[0]], {
      icon: L.divIcon({className: 'gr-label', html: text, iconSize: null}),
      interactive: false, keyboard: false, pane: 'labels'});
  });
  function showLabels() {
    var view = map.getBounds();
    var seen = markers.filter(function(m) { return view.contains(m.getLatLng()); });
    labels.clearLayers();
    if (seen.length > data.labels.most) return;
    var placed = [];  // a name that would overlap one already drawn is left out
    seen.forEach(function(m) {
      labels.addLayer(m);
      var box = m.getElement().firstChild.getBoundingClientRect();
      var clash = placed.some(function(b) {
        return box.left < b.right + 4 && b.left < box.right + 4 &&
               box.top < b.bottom && b.top < box.bottom;
      });
      if (clash) labels.removeLayer(m); else placed.push(box);
    });
  }
  map.on('moveend', showLabels);
  // the find box: a ward, an LSOA or an output area by name or code
  var places = {};
  data.find.forEach(function(f) {
    column(f.names).forEach(function(name, i) {
      if (name === null || name === '') return;
      var key = String(name).toLowerCase();
      (places[key] = places[key] || {name: String(name), kinds: {}, shapes: []});
      places[key].kinds[f.kind] = true;
      places[key].shapes.push(shapes[f.shapes][i]);
    });
  });
  var form = document.querySelector('.gr-find'), found = null;
  if (form) {
    var input = form.querySelector('input'), status = form.querySelector('.gr-found');
    var list = document.getElementById('gr-places');
    Object.keys(places).sort().forEach(function(key) {
      var option = document.createElement('option');
      option.value = places[key].name;
      option.label = Object.keys(places[key].kinds).join(', ');
      list.appendChild(option);
    });
    var go = function(e) {
      if (e) e.preventDefault();
      var text = input.value.trim().toLowerCase();
      if (!text) return;
      var place = places[text] || places[Object.keys(places).filter(function(k) {
        return k.indexOf(text) >= 0; }).sort()[0]];
      if (found) { map.removeLayer(found); found = null; }
      if (!place) {
        status.textContent = 'Nothing called "' + input.value.trim() + '": try a ward, ' +
          'an LSOA or an output area code.';
        return;
      }
      found = L.layerGroup([
        L.geoJSON(place.shapes, {pane: 'outlines', interactive: false,
                                  style: {color: '#ffdd00', weight: 7, fill: false}}),
        L.geoJSON(place.shapes, {pane: 'outlines', interactive: false,
                                  style: {color: '#0b0c0c', weight: 3, fill: false}})]);
      found.addTo(map);
      var box = L.geoJSON(place.shapes).getBounds();
      map.fitBounds(box, {paddingTopLeft: padding().topLeft, maxZoom: 16,
                          paddingBottomRight: padding().bottomRight, animate: false});
      status.textContent = 'Showing ' + place.name + ' (' +
        Object.keys(place.kinds).join(', ') + '), outlined in black on yellow.';
    };
    form.addEventListener('submit', go);
    input.addEventListener('change', go);
  }
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
  function padding() {
    var title = document.querySelector('.gr-title');
    var attribution = document.querySelector('.leaflet-control-attribution');
    var left = legend && legend.open ? legend.offsetWidth + 20 : 10;
    var top = title ? title.offsetTop + title.offsetHeight + 10 : 10;
    var bottom = (attribution ? attribution.offsetHeight : 0) + 30;
    return {topLeft: [left, top], bottomRight: [10, bottom]};
  }
  function fit() {
    var p = padding();
    map.fitBounds(data.bounds, {paddingTopLeft: p.topLeft, paddingBottomRight: p.bottomRight,
                               animate: false});
  }
  fit();
  showLabels();
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
