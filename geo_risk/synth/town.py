"""The embedded synthetic town: output areas, LSOAs and wards with Basildon's ward names.

How it is made (deterministic per seed):

1. Seed points are thrown, with a minimum spacing that shrinks where population is
   dense (three town centres, as in Basildon, Billericay and Wickford), inside an
   irregular outline; a sparse ring of points outside bounds the edge cells.
2. One Voronoi diagram of all points gives the output areas, so neighbouring OAs share
   exactly the same vertices: the OAs form a valid coverage with no gaps or overlaps.
3. OAs are grouped into 16 wards by k-means on their centroids, started from anchor
   positions that mimic Basildon's layout (Billericay north-west, Wickford north-east,
   Vange south), and within each ward into LSOAs of about five OAs. Any group split in
   two is mended so that every ward and LSOA is one contiguous piece.
4. A synthetic IMD 2019 rank per LSOA follows each ward's real deprivation order (Vange
   most deprived) with LSOA-level noise.

Codes are GSS-style but outside the ranges ONS has issued (``E00900001``...), so they can
never be mistaken for real areas.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import connected_components
from sklearn.cluster import KMeans

from geo_risk import columns as C
from geo_risk.geography import DEPRIVATION_EDITIONS

__all__ = ["WARDS", "make_town", "with_districts"]

#: Ward name -> (anchor x, anchor y in the unit square, deprivation share in [0, 1]).
#: Positions mimic Basildon's layout; the deprivation order follows IMD 2019
#: (Vange, Pitsea South East, Pitsea North West, St Martin's, Lee Chapel North, Fryerns ...).
WARDS: dict[str, tuple[float, float, float]] = {
    "Billericay West": (0.10, 0.84, 0.10),
    "Billericay East": (0.25, 0.88, 0.14),
    "Burstead": (0.22, 0.64, 0.12),
    "Crouch": (0.44, 0.74, 0.25),
    "Wickford Castledon": (0.62, 0.80, 0.36),
    "Wickford North": (0.74, 0.93, 0.30),
    "Wickford Park": (0.86, 0.78, 0.22),
    "Laindon Park": (0.17, 0.42, 0.52),
    "Langdon Hills": (0.14, 0.16, 0.32),
    "Nethermayne": (0.34, 0.20, 0.45),
    "Lee Chapel North": (0.34, 0.42, 0.70),
    "St Martin's": (0.50, 0.40, 0.73),
    "Fryerns": (0.57, 0.56, 0.68),
    "Vange": (0.58, 0.16, 0.88),
    "Pitsea North West": (0.76, 0.44, 0.76),
    "Pitsea South East": (0.86, 0.22, 0.80),
}

_ORIGIN = (563_000.0, 184_000.0)  # south-west corner in British National Grid (m)
_EXTENT = (15_000.0, 10_000.0)  # width, height (m) of the default town
_DEFAULT_OAS = 572  # its output areas: about 0.2 km2 each, as Basildon's 561 in 110 km2
#: Dense centres (x, y in the unit square, weight): Basildon, Billericay, Wickford.
_CENTRES = [(0.48, 0.38, 1.0), (0.18, 0.82, 0.6), (0.75, 0.84, 0.6)]


def _density(xy: np.ndarray) -> np.ndarray:
    """Relative population density at unit-square positions (rural floor 0.12)."""
    d = np.full(len(xy), 0.12)
    for cx, cy, w in _CENTRES:
        r2 = ((xy[:, 0] - cx) * 1.5) ** 2 + (xy[:, 1] - cy) ** 2
        d += w * np.exp(-r2 / (2 * 0.16**2))
    return d


def _inside_outline(xy: np.ndarray, phases: np.ndarray) -> np.ndarray:
    """An irregular, star-shaped town outline in the unit square."""
    dx, dy = xy[:, 0] - 0.5, xy[:, 1] - 0.5
    angle = np.arctan2(dy, dx)
    wobble = 1 + 0.07 * np.sin(3 * angle + phases[0]) + 0.05 * np.sin(5 * angle + phases[1])
    return (dx / 0.49) ** 2 + (dy / 0.48) ** 2 <= wobble**2


def _throw_points(rng: np.random.Generator, n: int, phases: np.ndarray) -> np.ndarray:
    """n points inside the outline, denser where ``_density`` is high, never too close."""
    accepted = np.empty((n, 2))
    m = 0
    spacing = 0.62 / np.sqrt(n)  # in unit-square units at density 1
    while m < n:
        cand = rng.random((4096, 2))
        dens = _density(cand)
        keep = _inside_outline(cand, phases) & (rng.random(4096) < dens / dens.max())
        for p, dp in zip(cand[keep], dens[keep], strict=True):
            if m:
                pts = accepted[:m]
                gap = np.hypot((pts[:, 0] - p[0]) * _EXTENT[0], (pts[:, 1] - p[1]) * _EXTENT[1])
                if gap.min() < spacing * _EXTENT[1] / np.sqrt(dp):
                    continue
            accepted[m] = p
            m += 1
            if m == n:
                break
        spacing *= 0.97  # relax if the outline fills up before n points fit
    return accepted


def _ring_points(phases: np.ndarray) -> np.ndarray:
    """Points outside the outline on a grid, to bound the edge cells."""
    g = np.linspace(-0.15, 1.15, 34)
    xy = np.array(np.meshgrid(g, g)).reshape(2, -1).T
    return xy[~_inside_outline(xy, phases * 1.0) & ~_inside_outline(
        0.5 + (xy - 0.5) / 1.08, phases)]


def _contiguous(labels: np.ndarray, adjacency, within: np.ndarray | None = None) -> np.ndarray:
    """Reassign every detached piece of a group to the neighbouring group it touches most."""
    labels = labels.copy()
    within = np.zeros(len(labels), int) if within is None else within
    for _ in range(20):
        changed = False
        for lab in np.unique(labels):
            members = np.flatnonzero(labels == lab)
            sub = adjacency[members][:, members]
            n_parts, part = connected_components(sub, directed=False)
            if n_parts == 1:
                continue
            main = np.bincount(part).argmax()
            for i in members[part != main]:
                neigh = adjacency[i].indices
                neigh = neigh[(labels[neigh] != lab) & (within[neigh] == within[i])]
                if len(neigh):
                    labels[i] = np.bincount(labels[neigh]).argmax()
                    changed = True
        if not changed:
            break
    return labels


def _apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder), min 1."""
    raw = total * weights / weights.sum()
    out = np.maximum(np.floor(raw).astype(int), 1)
    for i in np.argsort(-(raw - np.floor(raw)))[: total - out.sum()]:
        out[i] += 1
    return out


def make_town(
    *, seed: int = 1, n_oas: int = _DEFAULT_OAS, n_lsoas: int = 110
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Generate the synthetic town's output areas, lookup and synthetic IMD.

    Parameters
    ----------
    seed
        Seed for every random choice; the same seed gives the same town.
    n_oas, n_lsoas
        Number of output areas and LSOAs (16 wards always). The town's area grows with
        its output areas (each side by the square root), so an output area keeps the
        default town's size and a county-sized town covers a county: a service's reach,
        or a neighbourhood, holds as many areas at every size.

    Returns
    -------
    oas : geopandas.GeoDataFrame
        One row per OA in EPSG:27700 with the lookup columns (2011 vintage).
    imd : pandas.DataFrame
        Synthetic IMD 2019 by LSOA: LSOA code, deprivation rank and decile.

    Examples
    --------
    >>> oas, imd = make_town(seed=1)
    >>> len(oas), oas[C.WARD_NAME].nunique(), len(imd)
    (572, 16, 110)
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x70E]))
    phases = rng.uniform(0, 2 * np.pi, 2)
    inner = _throw_points(rng, n_oas, phases)
    outer = _ring_points(phases)
    unit = np.vstack([inner, outer])
    width, height = np.array(_EXTENT) * np.sqrt(n_oas / _DEFAULT_OAS)
    xy = np.column_stack([_ORIGIN[0] + unit[:, 0] * width, _ORIGIN[1] + unit[:, 1] * height])
    cells = shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(xy), extend_to=shapely.box(*xy.min(0) - 5e3, *xy.max(0) + 5e3),
        ordered=True))[:n_oas]
    cells = shapely.set_precision(cells, 0.01)
    # a stable order: south to north in bands, west to east within a band
    order = np.lexsort((xy[:n_oas, 0], np.floor((xy[:n_oas, 1] - _ORIGIN[1]) / 1_000)))
    cells, unit = cells[order], inner[order]

    tree = shapely.STRtree(cells)
    pairs = tree.query(cells, predicate="touches")
    from scipy.sparse import csr_matrix
    adjacency = csr_matrix((np.ones(pairs.shape[1]), (pairs[0], pairs[1])), shape=(n_oas, n_oas))

    names = list(WARDS)
    anchors = np.array([WARDS[w][:2] for w in names])
    ward = KMeans(16, init=anchors, n_init=1, random_state=seed).fit_predict(unit)
    ward = _contiguous(ward, adjacency)

    n_per_ward = np.bincount(ward, minlength=16)
    lsoas_per_ward = _apportion(n_lsoas, n_per_ward.astype(float))
    lsoa = np.empty(n_oas, int)
    next_id = 0
    for w in range(16):
        members = np.flatnonzero(ward == w)
        k = min(lsoas_per_ward[w], len(members))
        sub = KMeans(k, n_init=4, random_state=seed).fit_predict(unit[members])
        lsoa[members] = next_id + sub
        next_id += k
    lsoa = _contiguous(lsoa, adjacency, within=ward)
    lsoa = np.unique(lsoa, return_inverse=True)[1]  # drop any emptied group

    ward_codes = {name: f"E05{900001 + i:06d}" for i, name in enumerate(sorted(names))}
    lsoa_order = pd.Series(unit[:, 1]).groupby(lsoa).mean().sort_values(ascending=False).index
    lsoa_rank = pd.Series(np.arange(len(lsoa_order)), index=lsoa_order)
    lsoa_num = lsoa_rank.loc[lsoa].to_numpy()
    oas = gpd.GeoDataFrame(
        {
            C.OA: [f"E00{900001 + i:06d}" for i in range(n_oas)],
            C.LSOA: [f"E01{900001 + j:06d}" for j in lsoa_num],
            C.LSOA_NAME: [f"Synthtown {j // 5 + 1:03d}{'ABCDE'[j % 5]}" for j in lsoa_num],
            C.WARD: [ward_codes[names[w]] for w in ward],
            C.WARD_NAME: [names[w] for w in ward],
            C.LAD: "E07900066",
            C.LAD_NAME: "Synthtown",
        },
        geometry=cells,
        crs=C.BNG,
    )

    lsoas = oas.groupby(C.LSOA)[C.WARD_NAME].first()
    share = np.array([WARDS[w][2] for w in lsoas]) + rng.normal(0, 0.07, len(lsoas))
    share = np.clip(share, 0.01, 0.99)
    england = DEPRIVATION_EDITIONS[2011][1]
    rank = np.round((1 - share) * (england - 1) + 1).astype(int)
    imd = pd.DataFrame({C.LSOA: lsoas.index, C.DEPRIVATION_RANK: rank,
                        C.DEPRIVATION_DECILE: np.ceil(rank / england * 10).astype(int)})
    return oas, imd


def with_districts(oas: gpd.GeoDataFrame, districts: int) -> gpd.GeoDataFrame:
    """The town's wards dealt into ``districts`` districts of whole wards, in ward-code
    order (codes ``E07900066`` on, named ``Synthtown 1`` on): a county of several
    districts for the benchmarks. One district leaves the town as it is.

    >>> oas, _ = make_town(seed=1)
    >>> with_districts(oas, 4).groupby(C.LAD_NAME)[C.WARD].nunique().tolist()
    [4, 4, 4, 4]
    """
    if districts < 2:
        return oas
    wards = sorted(oas[C.WARD].unique())
    if districts > len(wards):
        raise ValueError(f"{districts} districts of whole wards: the town has {len(wards)}")
    number = pd.Series(np.arange(len(wards)) * districts // len(wards), index=wards)
    d = number.reindex(oas[C.WARD]).to_numpy()
    return oas.assign(**{C.LAD: [f"E07{900066 + i:06d}" for i in d],
                         C.LAD_NAME: [f"Synthtown {i + 1}" for i in d]})
