"""Markdown tables of the generated text and the appendix's key-number tables."""

from dbcode.viz.tables import key_number_tables, md_table


def test_md_table_escapes_cells():
    table = md_table(["a", "b"], [["x|y", "1\n2"]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| x\\|y | 1 2 |"]


def test_key_number_tables_give_one_collapsed_table_per_figure():
    manifest = {
        "fig4b": {
            "chapter": "bars",
            "scale": "ci",
            "seeds": [0, 1],
            "key_numbers": {"loss": {"value": 0.0123456}, "n_seeds": 2},
        },
        "circuits": {"chapter": "derivation", "scale": "ci", "seeds": [], "key_numbers": {}},
    }
    text = key_number_tables(manifest)
    assert text.count("<details>") == 2 and text.count("</details>") == 2
    assert "<code>fig4b</code>: bars chapter, scale ci, seeds 0, 1, 2 key numbers" in text
    assert "| `loss` | 0.01235 |" in text and "| `n_seeds` | 2 |" in text
    assert "No key numbers" in text
