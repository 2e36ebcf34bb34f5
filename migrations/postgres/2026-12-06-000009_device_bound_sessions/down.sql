DROP TABLE dbsc_challenges;
DROP TABLE dbsc_keys;
