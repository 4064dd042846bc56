"""pipeline/schema.py: the one schema module (tables, DuckDB DDL, migrations)."""
import duckdb
import pytest

from pipeline import schema


def test_the_public_tables_are_defined():
    assert set(schema.PUBLIC_TABLES) <= set(schema.TABLES)


@pytest.mark.parametrize("name", sorted(schema.TABLES))
def test_create_table_sql_makes_the_arrow_schemas_columns(name):
    con = duckdb.connect()
    con.execute(schema.create_table_sql(name))
    columns = [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]
    assert columns == schema.TABLES[name].names


def test_an_older_table_migrates_by_appending_the_missing_columns():
    con = duckdb.connect()
    fields = schema.TABLES["documents"]
    old = fields.names[:-3]  # as an older version made it
    con.execute("CREATE TABLE documents (" + ", ".join(f'"{n}" VARCHAR' for n in old) + ")")
    statements = schema.add_columns_sql("documents", set(old))
    assert len(statements) == 3
    for s in statements:
        con.execute(s)
    assert [r[0] for r in con.execute("DESCRIBE documents").fetchall()] == fields.names
    assert schema.add_columns_sql("documents", set(fields.names)) == []


def test_table_fills_missing_keys_with_nulls():
    t = schema.table("drops", [{"drop_id": 7, "label": "x"}])
    assert t.schema.equals(schema.TABLES["drops"])
    row = t.to_pylist()[0]
    assert row["drop_id"] == 7 and row["inputs"] is None
