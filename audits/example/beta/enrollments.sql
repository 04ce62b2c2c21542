-- Beta enrollment load. Known difference from legacy (see ../README.md):
--   5. rows without a school are kept
SELECT DISTINCT
    trim("StudentID") AS student_id,
    trim("SectionID") AS section_id,
    trim("SchoolID") AS school_id,
    to_date(trim("EntryDate"), '%Y-%m-%d', '%m/%d/%Y') AS entry_date,
    to_date(nullif(trim("ExitDate"), ''), '%Y-%m-%d', '%m/%d/%Y') AS exit_date
FROM enrollments_raw
