"""Downloads built from reports and stored rollups: the IPTT as CSV/XLSX, IATI 2.03 activity XML."""
