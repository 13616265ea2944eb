"""Files in and out, shared by every stage: tables read as councils save them
(:mod:`~geo_risk.io.read`), and text from inputs escaped for where it lands
(:mod:`~geo_risk.io.escape`).
"""

from geo_risk.io.escape import csv_cell, script_json, write_csv
from geo_risk.io.read import CHUNK_ROWS, column_name, read_table, read_text

__all__ = ["CHUNK_ROWS", "column_name", "csv_cell", "read_table", "read_text", "script_json",
           "write_csv"]
