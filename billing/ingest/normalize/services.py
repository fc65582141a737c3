"""FOCUS ServiceCategory: the allowed values, and a category for common AWS product codes.

A CUR has no service category; the product codes below get one, any other stays null
(rather than a guessed `Other`).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

SERVICE_CATEGORIES = (
    "AI and Machine Learning",
    "Analytics",
    "Business Applications",
    "Compute",
    "Databases",
    "Developer Tools",
    "Multicloud",
    "Identity",
    "Integration",
    "Internet of Things",
    "Management and Governance",
    "Media",
    "Migration",
    "Mobile",
    "Networking",
    "Security",
    "Storage",
    "Web",
    "Other",
)

_BY_CATEGORY = {
    "AI and Machine Learning": "AmazonSageMaker AmazonBedrock AmazonRekognition AmazonComprehend "
    "AmazonTextract AmazonPolly AmazonTranscribe AmazonTranslate AmazonLex AmazonKendra",
    "Analytics": "AmazonAthena AmazonKinesis AmazonKinesisFirehose AmazonEMR AWSGlue "
    "AmazonQuickSight AmazonRedshift AmazonES AmazonOpenSearchService AmazonMSK AWSLakeFormation",
    "Business Applications": "AmazonConnect AmazonChime AmazonWorkMail AmazonSES AmazonWorkDocs",
    "Compute": "AmazonEC2 AWSLambda AmazonECS AmazonEKS AWSBatch AmazonLightsail AWSFargate "
    "AWSOutposts ElasticMapReduce AmazonAppStream AmazonWorkSpaces AWSElasticBeanstalk",
    "Databases": "AmazonRDS AmazonDynamoDB AmazonElastiCache AmazonDocDB AmazonNeptune "
    "AmazonMemoryDB AmazonTimestream AmazonKeyspaces AmazonDAX",
    "Developer Tools": "AWSCodeBuild AWSCodeCommit AWSCodeDeploy AWSCodePipeline AWSCodeArtifact "
    "AWSXRay AWSCloud9 AWSAmplify",
    "Identity": "AWSDirectoryService AmazonCognito AWSSSO",
    "Integration": "AmazonSQS AmazonSNS AWSEvents AmazonMQ AWSStepFunctions AmazonApiGateway "
    "AmazonAppFlow AmazonSWF",
    "Internet of Things": "AWSIoT AWSIoTAnalytics AWSGreengrass",
    "Management and Governance": "AmazonCloudWatch AWSCloudTrail AWSConfig AWSSystemsManager "
    "AWSCloudFormation AWSServiceCatalog AWSCostExplorer AWSBudgets AWSSupportBusiness "
    "AWSSupportEnterprise AWSSupportDeveloper AWSOrganizations AWSBackup",
    "Media": "AWSElementalMediaConvert AWSElementalMediaLive AmazonIVS AmazonKinesisVideo",
    "Migration": "AWSDatabaseMigrationSvc AWSDataTransfer AWSTransfer AWSDataSync AWSSnowball",
    "Networking": "AmazonVPC AmazonCloudFront AmazonRoute53 AWSELB AWSDirectConnect "
    "AWSGlobalAccelerator AWSTransitGateway AmazonPrivateLink",
    "Security": "AWSKMS AWSSecretsManager AmazonGuardDuty AWSShield AWSWAF awswaf AWSSecurityHub "
    "AmazonInspector AmazonMacie AWSCertificateManager AmazonDetective AWSFMS",
    "Storage": "AmazonS3 AmazonEFS AmazonFSx AmazonGlacier AmazonS3GlacierDeepArchive "
    "AWSStorageGateway AmazonEBS",
}
PRODUCT_CATEGORIES = {
    code: category for category, codes in _BY_CATEGORY.items() for code in codes.split()
}


def service_category(product_code: pa.Array) -> pa.Array:
    """The FOCUS ServiceCategory of each AWS product code, null when not known."""
    encoded = pc.dictionary_encode(product_code)
    categories = [PRODUCT_CATEGORIES.get(code) for code in encoded.dictionary.to_pylist()]
    return pa.array(categories, pa.string()).take(encoded.indices)
