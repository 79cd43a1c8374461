"""CLN's JSON-RPC error codes, and the one exception a command raises to answer with an error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# common/jsonrpc_errors.h
LIGHTNINGD = -1
JSONRPC2_METHOD_NOT_FOUND = -32601
JSONRPC2_INVALID_PARAMS = -32602
PAY_IN_PROGRESS = 200
PAY_RHASH_ALREADY_USED = 201
PAY_UNPARSEABLE_ONION = 202
PAY_DESTINATION_PERM_FAIL = 203
PAY_TRY_OTHER_ROUTE = 204
PAY_ROUTE_NOT_FOUND = 205
PAY_ROUTE_TOO_EXPENSIVE = 206
PAY_INVOICE_EXPIRED = 207
PAY_NO_SUCH_PAYMENT = 208
PAY_UNSPECIFIED_ERROR = 209
PAY_STOPPED_RETRYING = 210
PAY_INVOICE_REQUEST_INVALID = 212
PAY_INSUFFICIENT_FUNDS = 215
PAY_USER_ERROR = 217
PAY_DESTINATION_INSUFFICIENT_CAPACITY = 220
INVOICE_LABEL_ALREADY_EXISTS = 900
INVOICE_PREIMAGE_ALREADY_EXISTS = 901
INVOICE_HINTS_GAVE_NO_ROUTES = 902


@dataclass
class RpcFault(Exception):
    """Raised by a command handler; the server turns it into a JSON-RPC error object, as lightningd does."""

    code: int
    message: str
    data: dict[str, Any] | None = field(default=None)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def invalid_params(message: str) -> RpcFault:
    """A -32602 error with lightningd's wording."""
    return RpcFault(JSONRPC2_INVALID_PARAMS, message)
