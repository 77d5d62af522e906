"""Tests of the pages through Streamlit's AppTest: content, roles and areas, the presenter."""
