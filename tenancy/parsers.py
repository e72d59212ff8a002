"""The API's JSON parser: DRF's, refusing NUL anywhere in the body.

PostgreSQL stores no NUL in text or jsonb, so a NUL that got past a view would end in a
500 or half a write; refusing it at the door names the place for every endpoint at once.
"""

from rest_framework import exceptions, parsers

NUL_MESSAGE = "Must not contain NUL characters."


def nul_path(data, path=()) -> tuple | None:
    """The path (keys and indexes) of the first string holding a NUL, or None."""
    if isinstance(data, str):
        return path if "\x00" in data else None
    if isinstance(data, dict):
        for key, value in data.items():
            if "\x00" in key:
                return path
            found = nul_path(value, (*path, key))
            if found is not None:
                return found
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found = nul_path(value, (*path, index))
            if found is not None:
                return found
    return None


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        where = nul_path(data)
        if where is not None:
            raise exceptions.ValidationError({".".join(map(str, where)) or "body": [NUL_MESSAGE]})
        return data
