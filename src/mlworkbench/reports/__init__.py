"""Reports: HTML elements, notebook rendering, the index, the dashboard and comparisons."""
