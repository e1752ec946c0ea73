from django.db import migrations

# Names in natural order (core.ordering): each run of digits becomes its length (two digits)
# and its value without leading zeros, so that "service 2" sorts before "service 10", and the
# rest is lower-cased, so that "alpha" sorts beside "Alpha". Plain SQL: no ICU needed.
CREATE = r"""
CREATE FUNCTION natural_sort_key(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(
        CASE WHEN part[1] ~ '^[0-9]'
             THEN lpad(least(length(ltrim(part[1], '0')), 99)::text, 2, '0')
                  || ltrim(part[1], '0')
             ELSE lower(part[1])
        END, '' ORDER BY position), '')
    FROM regexp_matches($1, '[0-9]+|[^0-9]+', 'g') WITH ORDINALITY AS parts(part, position)
$$
"""


class Migration(migrations.Migration):
    """The function lists sort names by (core.ordering): numbers in a name by their value
    ("service 2" before "service 10"), letters regardless of case."""

    dependencies = [("core", "0006_trigram_search")]

    operations = [
        migrations.RunSQL(CREATE, reverse_sql="DROP FUNCTION natural_sort_key(text)"),
    ]
