"""The hospital's appointment feed: HL7v2 SIU over MLLP and FHIR R4 Appointments."""
