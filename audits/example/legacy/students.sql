-- Legacy student load, as the old ETL does it (warts and all).
SELECT DISTINCT
    trim("StudentID") AS student_id,
    trim("SchoolID") AS school_id,
    trim("LastName") AS last_name,
    trim("FirstName") AS first_name,
    to_date(trim("BirthDate"), '%Y-%m-%d', '%m/%d/%Y') AS birth_date,
    CASE
        WHEN upper(trim("Grade")) IN ('K', 'KG', '00') THEN 'KG'
        WHEN length(trim("Grade")) = 1 THEN lpad(trim("Grade"), 2, '0')
        ELSE trim("Grade")
    END AS grade_level,
    CASE upper(substr(trim("Gender"), 1, 1))
        WHEN 'F' THEN 'F'
        WHEN 'M' THEN 'M'
        ELSE 'X'
    END AS gender_code
FROM students_raw
WHERE upper(trim("Status")) = 'ACTIVE'
