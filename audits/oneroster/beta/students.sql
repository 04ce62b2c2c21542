-- Beta student load: codes mapped to CEDS through the audit's code map (map_code), by school year.
-- Known difference from legacy (see ../README.md):
--   1. a grade the code map does not list (OneRoster 1.0's unpadded `9`) maps to null, where
--      legacy zero-padded it; code_mapping.csv lists it as unmapped.
WITH school_year AS (
    SELECT max(coalesce("schoolYear", substr("title", 6, 4))) AS year
    FROM sessions
    WHERE "type" = 'schoolYear'
),
class_grade AS (
    SELECT e."userSourcedId" AS user_id,
           max(coalesce(nullif(c."grades", ''), c."grade")) AS grade
    FROM enrollments e
    JOIN classes c ON c."sourcedId" = e."classSourcedId"
    GROUP BY e."userSourcedId"
),
student AS (
    SELECT u.*,
           trim(coalesce(nullif(u."grades", ''), g.grade)) AS raw_grade,
           (SELECT year FROM school_year) AS year
    FROM users u
    LEFT JOIN class_grade g ON g.user_id = u."sourcedId"
    WHERE u."role" = 'student'
)
SELECT
    s."sourcedId" AS student_id,
    s."orgSourcedIds" AS school_id,
    o."name" AS school_name,
    s."familyName" AS last_name,
    s."givenName" AS first_name,
    to_date(coalesce(d."birthDate", d."birthdate")) AS birth_date,
    map_code('grade_level', s.year, s.raw_grade) AS grade_level,
    map_code('sex', s.year, d."sex") AS sex,
    CAST(s.year AS INT) AS school_year
FROM student s
LEFT JOIN orgs o ON o."sourcedId" = s."orgSourcedIds"
LEFT JOIN demographics d ON coalesce(d."userSourcedId", d."sourcedId") = s."sourcedId"
