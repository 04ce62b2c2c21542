-- Beta enrollment load. Known difference from legacy (see ../README.md):
--   2. `primary` is compared case-sensitively with OneRoster 1.1's `true`, so 1.0's `TRUE`
--      reads as false.
SELECT
    "sourcedId" AS enrollment_id,
    "classSourcedId" AS class_id,
    "schoolSourcedId" AS school_id,
    "userSourcedId" AS user_id,
    "role" AS role,
    coalesce("primary" = 'true', false) AS is_primary,
    to_date(nullif("beginDate", '')) AS begin_date,
    to_date(nullif("endDate", '')) AS end_date
FROM enrollments
