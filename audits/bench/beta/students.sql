-- Typed load of the raw export; first names trimmed.
SELECT
    student_id,
    school_id,
    trim(first_name) AS first_name,
    last_name,
    CAST(birth_date AS DATE) AS birth_date,
    grade_level,
    gender_code,
    CAST(NULLIF(ell_status, '') AS BOOLEAN) AS ell_status,
    CAST(NULLIF(gpa, '') AS DOUBLE) AS gpa,
    CAST(attendance_rate AS DOUBLE) AS attendance_rate,
    NULLIF(home_language, '') AS home_language,
    CAST(updated_at AS TIMESTAMP) AS updated_at
FROM students_raw
