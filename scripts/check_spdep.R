#!/usr/bin/env Rscript
# Golden figures from R's spdep, for tests/test_spdep.py to compare geo-risk's with.
#
# Two datasets: Columbus (Anselin's crime data, as spData ships it and libpysal too) and
# the embedded town (geo_risk/geography/data; its value is each output area's LSOA's IMD
# rank, which needs no model). For each: global Moran's I (row-standardised,
# randomisation), local Moran's Ii with its analytic expectation, variance and z
# (conditional randomisation, variance with n - 1, as esda's), Gi* z (binary weights with
# the area itself), and the neighbour sets of queen and rook contiguity (poly2nb), the k
# nearest (knearneigh) and a distance band topped up to one nearest (dnearneigh), on
# centroids, and queen contiguity up to two steps (nblag_cumul).
#
# Run from the repository's root, with Debian's r-cran-spdep and r-cran-sf:
#   Rscript scripts/check_spdep.R [OUT]
# It rewrites tests/data/spdep/*.csv (or OUT/*.csv); the test needs no R.

suppressPackageStartupMessages({
  library(sf)
  library(spdep)
})

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "tests/data/spdep"
dir.create(out, showWarnings = FALSE, recursive = TRUE)

town_data <- "geo_risk/geography/data"
columbus <- st_read(system.file("shapes/columbus.shp", package = "spData"), quiet = TRUE)
columbus <- data.frame(id = as.character(columbus$POLYID), value = columbus$CRIME,
                       geometry = st_geometry(columbus)) |> st_as_sf()
town <- st_read(file.path(town_data, "synthtown_oa.geojson"), quiet = TRUE)
lookup <- read.csv(file.path(town_data, "synthtown_lookup.csv"))
imd <- read.csv(file.path(town_data, "synthtown_imd.csv"))
rank <- imd$IMD_rank[match(lookup$LSOA11CD[match(town$OA11CD, lookup$OA11CD)],
                           imd$LSOA11CD)]
town <- data.frame(id = town$OA11CD, value = as.numeric(rank),
                   geometry = st_geometry(town)) |> st_as_sf()

# the distance band and k of each dataset (Columbus in its own units, the town in metres)
datasets <- list(columbus = list(data = columbus, band = 0.6, k = 4),
                 town = list(data = town, band = 800, k = 4))

as_rows <- function(name, choice, nb, ids) {
  data.frame(dataset = name, weights = choice, id = ids,
             neighbours = vapply(nb, function(j) {
               if (length(j) == 1 && j[1] == 0) "" else paste(sort(ids[j]), collapse = " ")
             }, ""))
}

stats <- list(); globals <- list(); neighbours <- list()
for (name in names(datasets)) {
  d <- datasets[[name]]
  x <- d$data$value
  ids <- d$data$id
  queen <- poly2nb(d$data, queen = TRUE)
  rook <- poly2nb(d$data, queen = FALSE)
  xy <- st_coordinates(st_centroid(st_geometry(d$data)))
  knn <- knn2nb(knearneigh(xy, k = d$k))
  band <- union.nb(knn2nb(knearneigh(xy, k = 1)), dnearneigh(xy, 0, d$band))
  neighbours[[name]] <- rbind(
    as_rows(name, "queen", queen, ids), as_rows(name, "rook", rook, ids),
    as_rows(name, sprintf("knn:%d", d$k), knn, ids),
    as_rows(name, sprintf("distance:%g", d$band), band, ids),
    as_rows(name, "order:2", nblag_cumul(nblag(queen, 2)), ids))

  w <- nb2listw(queen, style = "W")
  global <- moran.test(x, w, randomisation = TRUE)
  globals[[name]] <- data.frame(
    dataset = name, moran_i = unname(global$estimate["Moran I statistic"]),
    expectation = unname(global$estimate["Expectation"]),
    variance = unname(global$estimate["Variance"]),
    z = unname(global$statistic))
  local <- localmoran(x, w, conditional = TRUE, mlvar = FALSE)
  gi <- localG(x, nb2listw(include.self(queen), style = "B"))
  stats[[name]] <- data.frame(
    dataset = name, id = ids, value = x, ii = local[, "Ii"], e_ii = local[, "E.Ii"],
    var_ii = local[, "Var.Ii"], z_ii = local[, "Z.Ii"], gi_star_z = as.numeric(gi))
}

write_golden <- function(frame, file) {
  write.csv(frame, file.path(out, file), row.names = FALSE)
}
write_golden(do.call(rbind, neighbours), "neighbours.csv")
write_golden(do.call(rbind, globals), "global.csv")
write_golden(do.call(rbind, stats), "local.csv")
write_golden(data.frame(
  software = c("R", "spdep", "sf"),
  version = c(paste(R.version$major, R.version$minor, sep = "."),
              as.character(packageVersion("spdep")), as.character(packageVersion("sf")))),
  "versions.csv")
cat("wrote", file.path(out, c("neighbours.csv", "global.csv", "local.csv", "versions.csv")),
    sep = "\n  ")
