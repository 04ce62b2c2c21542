-- Legacy enrollment load: every enrollment row; `primary` is true for any spelling of TRUE.
SELECT
    "sourcedId" AS enrollment_id,
    "classSourcedId" AS class_id,
    "schoolSourcedId" AS school_id,
    "userSourcedId" AS user_id,
    "role" AS role,
    upper(trim("primary")) = 'TRUE' AS is_primary,
    to_date(nullif("beginDate", '')) AS begin_date,
    to_date(nullif("endDate", '')) AS end_date
FROM enrollments
