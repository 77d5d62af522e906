"""A plain page with six plotly charts and the dashboard's amphoe box: what six charts cost the
browser to redraw after a filter change, with nothing else on the page."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from domain.reference import amphoe_names

names = amphoe_names("th")
with st.sidebar:
    chosen = st.selectbox("อำเภอ", ["", *sorted(names, key=names.__getitem__)], key="f_amphoe",
                          format_func=lambda c: names.get(c, "ทุกอำเภอ"))
rng = np.random.default_rng(abs(hash(chosen)) % 1000)
for row in range(3):
    for column, kind in zip(st.columns(2), ("bar", "line"), strict=True):
        values = rng.integers(10, 100, 26)
        trace = (go.Bar(x=list(names.values()), y=values) if kind == "bar"
                 else go.Scatter(x=list(range(26)), y=values, mode="lines+markers"))
        column.plotly_chart(go.Figure(trace, layout={"height": 320}),
                            key=f"floor_{row}_{kind}")
