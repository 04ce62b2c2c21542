-- Beta score load. Known difference from legacy (see ../README.md):
--   3. the student id is taken as sent, not trimmed: a padded id (` 604825 `) is a different key.
SELECT
    "sasid" AS student_id,
    CAST(trim("adminyear") AS INT) AS admin_year,
    trim("SchoolNumber") AS school_id,
    CAST("listeningss_adj" AS INT) AS listening,
    CAST("speakingss_adj" AS INT) AS speaking,
    CAST("readingss_adj" AS INT) AS reading,
    CAST("writingss_adj" AS INT) AS writing,
    CAST("Overallss_adj" AS INT) AS overall
FROM assessments
