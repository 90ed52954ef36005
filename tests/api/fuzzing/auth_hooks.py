"""schemathesis hooks (loaded through SCHEMATHESIS_HOOKS): every request carries a valid admin key.

The fuzzer exercises `POST /api/v1/keys/{prefix}/revoke` and `.../rotate` like any other
operation, and its stateful phase follows `GET /api/v1/keys` to the prefixes it lists, so it
can revoke the very key it is using. On a 401 schemathesis asks for credentials again, and a
fresh admin key is written straight into the server's store (the test's own database).
"""

import os

import schemathesis
from sqlmodel import Session

from monitor.entities.api_key import Scope
from monitor.services.api_keys import create_key
from monitor.store.engine import make_engine

# Set by the test that starts the run; read when the first key is needed, not at import.
DATABASE_URL_VARIABLE = "FUZZ_MONITOR_DATABASE_URL"


@schemathesis.auth(refresh_interval=3600)
class AdminKey:
    def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
        engine = make_engine(os.environ[DATABASE_URL_VARIABLE])
        with Session(engine) as session:
            _, plaintext = create_key(session=session, scope=Scope.ADMIN, name="schemathesis")
        engine.dispose()
        return plaintext

    def set(self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
