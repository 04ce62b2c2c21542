-- Legacy score load: every field trimmed before it is cast.
SELECT
    trim("sasid") AS student_id,
    CAST(trim("adminyear") AS INT) AS admin_year,
    trim("SchoolNumber") AS school_id,
    CAST(trim("listeningss_adj") AS INT) AS listening,
    CAST(trim("speakingss_adj") AS INT) AS speaking,
    CAST(trim("readingss_adj") AS INT) AS reading,
    CAST(trim("writingss_adj") AS INT) AS writing,
    CAST(trim("Overallss_adj") AS INT) AS overall
FROM assessments
