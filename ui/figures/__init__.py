"""Pure functions from backend results to what a tab shows: Plotly figures, pandas tables and
Markdown, one module per tab. Every user string is escaped with ``ui.escaping`` on its way in.
The API's JSON is not here: it is each result's ``to_dict()``."""
