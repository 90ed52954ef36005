"""Services own transactions: routes parse and authorise, then call one function here."""
