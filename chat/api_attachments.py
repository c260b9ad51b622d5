"""The attachments API: upload slots, confirmation, and the members-only download redirect.

``POST /api/v1/conversations/{id}/attachments`` gives a slot (members only, 404 otherwise),
the browser uploads to it, ``POST /api/v1/attachments/{id}/confirm`` checks the upload, and
``GET /api/v1/attachments/{id}`` answers 302 to a short-lived presigned URL. On the embedded
default (no media bucket) the slot points at ``POST /api/v1/attachments/upload`` and downloads
at ``GET /api/v1/attachments/blob/{token}``, both signed like the S3 forms they stand in for.
"""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from chat import attachments
from chat.attachment_data import attachment_data
from chat.attachments import MAX_NAME_LENGTH
from core.api import StrictInputSerializer
from core.errors import ServiceError

# Multipart overhead a local upload may add to the file (boundaries, the policy and key fields).
FORM_OVERHEAD = 16 * 1024


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["image", "file"])
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField(min_value=0)
    url = serializers.CharField(help_text="Members only: 302 to a short-lived presigned URL.")
    thumbnail_url = serializers.CharField(allow_null=True, help_text="Images: the thumbnail's redirect.")
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    thumbnail_width = serializers.IntegerField(allow_null=True)
    thumbnail_height = serializers.IntegerField(allow_null=True)


class SlotRequestSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=255, help_text=f"The file's name (kept up to {MAX_NAME_LENGTH}).")
    content_type = serializers.CharField(
        max_length=100, help_text="image/png, image/jpeg, image/gif or image/webp for an image; anything else a file."
    )
    size = serializers.IntegerField(min_value=1, max_value=2**53, help_text="In bytes.")


class UploadFormSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="POST the fields, then the file as the last part, named file.")
    fields = serializers.DictField(child=serializers.CharField())


class SlotSerializer(serializers.Serializer):
    attachment = AttachmentSerializer()
    upload = UploadFormSerializer()
    max_size = serializers.IntegerField()
    expires_in = serializers.IntegerField(help_text="Seconds the upload form stays valid.")


class AttachmentSlotView(GenericAPIView):
    serializer_class = SlotSerializer

    @extend_schema(request=SlotRequestSerializer, responses={201: SlotSerializer})
    def post(self, request: Request, conversation_id: int) -> Response:
        """An upload slot for an image or a file (members of the conversation only)."""
        from django.conf import settings

        form = SlotRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        attachment, upload = attachments.attachment_slot(
            user=request.user, conversation_id=conversation_id, **form.validated_data
        )
        return Response(
            {
                "attachment": attachment_data(attachment),
                "upload": upload,
                "max_size": attachments.max_bytes(attachment.kind),
                "expires_in": settings.STOCKCHAT_ATTACHMENT_UPLOAD_SECONDS,
            },
            status=status.HTTP_201_CREATED,
        )


class AttachmentConfirmView(GenericAPIView):
    serializer_class = AttachmentSerializer

    @extend_schema(request=None, responses=AttachmentSerializer)
    def post(self, request: Request, attachment_id: int) -> Response:
        """Check the uploaded bytes; the attachment may then be sent (``attachment_ids``)."""
        attachment = attachments.attachment_confirm(user=request.user, attachment_id=attachment_id)
        return Response(attachment_data(attachment))


class AttachmentView(GenericAPIView):
    serializer_class = AttachmentSerializer

    @extend_schema(
        parameters=[OpenApiParameter("variant", str, enum=["thumbnail"], description="An image's thumbnail")],
        responses={302: OpenApiResponse(description="To a short-lived presigned URL (Location)")},
    )
    def get(self, request: Request, attachment_id: int) -> HttpResponse:
        """The attachment's bytes, for members of its conversation: a redirect to a fresh presigned URL."""
        attachment = attachments.attachment_for_member(viewer=request.user, attachment_id=attachment_id)
        variant = request.query_params.get("variant")
        if variant not in (None, "thumbnail"):
            raise ServiceError("invalid_query", "variant is thumbnail or left out.")
        response = HttpResponseRedirect(
            attachments.attachment_download_url(attachment, thumbnail=variant == "thumbnail")
        )
        # Shorter than the presigned URL lives; never shared (the URL is the capability).
        response["Cache-Control"] = "private, max-age=60"
        return response


def _error(code: str, detail: str, status_code: int = 400) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status_code)


# The signed policy is the credential, as with S3's presigned POST: no cookie, so no CSRF token.
@csrf_exempt
@require_POST
def local_upload(request: HttpRequest) -> HttpResponse:
    """The embedded default's stand-in for the bucket's POST upload (same fields, same limits)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return _error("invalid", "The upload needs a Content-Length.")
    # Refused before the body is read: the signed limit cannot be known yet, the largest can.
    largest = max(attachments.max_bytes("image"), attachments.max_bytes("file"))
    if length > largest + FORM_OVERHEAD:
        return _error(attachments.TOO_LARGE, "The upload is larger than any attachment may be.")
    policy = attachments.local_policy(request.POST.get("policy"))
    if policy is None:
        return _error("invalid", "The upload form is forged or has expired.", status.HTTP_403_FORBIDDEN)
    upload = request.FILES.get("file")
    if (
        request.POST.get("key") != policy.key
        or request.POST.get("Content-Type") != policy.content_type
        or upload is None
        or len(request.FILES) != 1
    ):
        return _error("invalid", "The form's fields do not match its policy.", status.HTTP_403_FORBIDDEN)
    if not 1 <= upload.size <= policy.limit:
        return _error(attachments.TOO_LARGE, f"An attachment of this kind is 1 to {policy.limit} bytes.")
    try:
        attachments.local_upload(policy, upload)
    except ServiceError as exc:
        return _error(exc.code, exc.detail)
    return HttpResponse(status=status.HTTP_204_NO_CONTENT)


@require_GET
def local_blob(request: HttpRequest, token: str) -> HttpResponse:
    """The embedded default's stand-in for a presigned GET URL."""
    signed = attachments.local_download(token)
    storage = attachments.media_storage()
    if signed is None or not storage.exists(signed["k"]):
        return _error(attachments.ATTACHMENT_NOT_FOUND, "No such attachment, or the link has expired.", 404)
    response = FileResponse(storage.open(signed["k"], "rb"), content_type=signed["t"])
    response["Content-Disposition"] = signed["d"]
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response
