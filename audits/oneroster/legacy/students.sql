-- Legacy student load: the old roster job's rules, hard-coded.
--   grade: kindergarten spellings to KG, single digits zero-padded by hand
--   sex: the word as sent, capitalised
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
    SELECT u.*, trim(coalesce(nullif(u."grades", ''), g.grade)) AS raw_grade
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
    CASE
        WHEN upper(s.raw_grade) IN ('K', 'KG', '00') THEN 'KG'
        WHEN length(s.raw_grade) = 1 THEN lpad(s.raw_grade, 2, '0')
        ELSE s.raw_grade
    END AS grade_level,
    initcap(d."sex") AS sex,
    CAST((SELECT year FROM school_year) AS INT) AS school_year
FROM student s
LEFT JOIN orgs o ON o."sourcedId" = s."orgSourcedIds"
LEFT JOIN demographics d ON coalesce(d."userSourcedId", d."sourcedId") = s."sourcedId"
