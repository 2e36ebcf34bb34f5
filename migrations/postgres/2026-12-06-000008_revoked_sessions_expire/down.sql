-- Nothing to undo: the expiries it brought forward were the sessions' real ends.
SELECT 1;
