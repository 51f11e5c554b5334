"""Loop-IR passes, one per module, each ``Stmt -> Stmt`` and never mutating its input."""
