"""The floor of a filter change: a Streamlit page with one metric and the same amphoe box the
dashboard's sidebar has (``bench.compare --floors`` types into it as into the dashboard's).
What it costs is the round trip, Streamlit's run and its frontend: no page can be faster."""

import streamlit as st

from domain.reference import amphoe_names

names = amphoe_names("th")
with st.sidebar:
    chosen = st.selectbox("อำเภอ", ["", *sorted(names, key=names.__getitem__)], key="f_amphoe",
                          format_func=lambda c: names.get(c, "ทุกอำเภอ"))
st.metric("อำเภอ", names.get(chosen, "ทุกอำเภอ"))
