-- Beta student load. Known differences from legacy (see ../README.md):
--   1. single-digit grades are not zero-padded ('7' stays '7')
--   2. first names are not trimmed
--   3. the status filter is case-sensitive ('ACTIVE' is dropped)
--   4. no DISTINCT: a student sent twice is loaded twice
SELECT
    trim("StudentID") AS student_id,
    trim("SchoolID") AS school_id,
    trim("LastName") AS last_name,
    "FirstName" AS first_name,
    to_date(trim("BirthDate"), '%Y-%m-%d', '%m/%d/%Y') AS birth_date,
    CASE
        WHEN upper(trim("Grade")) IN ('K', 'KG', '00') THEN 'KG'
        ELSE trim("Grade")
    END AS grade_level,
    CASE upper(substr(trim("Gender"), 1, 1))
        WHEN 'F' THEN 'F'
        WHEN 'M' THEN 'M'
        ELSE 'X'
    END AS gender_code
FROM students_raw
WHERE trim("Status") = 'Active'
